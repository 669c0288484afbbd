"""Documents a customer or the owner can print: monthly statements, letters to post, the packet's
summary. statement and letter are pure builders of dataclasses; pdf renders them with fpdf2."""

"""Reminder email content (Jinja, HTML and text), rendering, and delivery (SendGrid, local outbox)."""

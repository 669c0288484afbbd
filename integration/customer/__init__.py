"""The customer's side: the page a reminder links to, where a customer sees what they owe, pays, says
they paid, disputes, promises a date and accepts the credit policy, without signing in.

`tokens` signs and reads the links (pure), `reads` gathers what the page shows, `actions` records
what the customer says as the owner's word would be, `acceptance` keeps credit policy acceptances.
"""

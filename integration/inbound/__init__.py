"""Customers' replies to reminders: read (SendGrid Inbound Parse or a local inbox folder), matched,
recorded, forwarded to the owner, and turned into a pause or a check task."""

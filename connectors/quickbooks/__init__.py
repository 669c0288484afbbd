"""QuickBooks Online: the connector on python-quickbooks, mapping, webhooks, and the local sandbox."""

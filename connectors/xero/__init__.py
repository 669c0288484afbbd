"""Xero: the connector on xero-python, mapping, webhooks, and the local sandbox."""

"""A local emulator of the QuickBooks Online Accounting API v3 and Intuit's OAuth 2.0 server."""

from connectors.quickbooks.sandbox.app import QboSandbox, QboSandboxConfig, create_app

__all__ = ["QboSandbox", "QboSandboxConfig", "create_app"]

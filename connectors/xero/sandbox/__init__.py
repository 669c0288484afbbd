"""A local emulator of Xero's identity service, connections and Accounting API 2.0."""

from connectors.xero.sandbox.app import XeroSandbox, XeroSandboxConfig, create_app

__all__ = ["XeroSandbox", "XeroSandboxConfig", "create_app"]

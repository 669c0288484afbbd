"""The arpilot service: configuration, database, sync, policy, action ledger, scheduler, web app, CLI."""

"""`arpilot demo --once`: a sandbox company connected through the real OAuth flow, one live cycle, a summary."""

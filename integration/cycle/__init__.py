"""The path of one cycle: sync the mirror, gather a snapshot, decide (integration.policy), plan into
the ledger, execute each action after re-checking it at send time; leases end every run.
"""

"""The owner's word (rules, wording, pauses and overrides, call outcomes, approvals, reply address) and
what the owner reads (activity records, dashboard reads and figures, the digest).
"""

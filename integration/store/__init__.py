"""Where arpilot keeps what it knows: the models, the database and its migrations, the organization
scoping every query starts from, connections and their tokens, quarantined records.
"""

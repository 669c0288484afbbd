"""The collections policy: pure functions from (snapshot, rules, now) to planned actions."""

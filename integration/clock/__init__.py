"""When cycles run and who runs them: the scheduler, the RQ queue, leader election, slots, locks and
the rate-limit store.
"""

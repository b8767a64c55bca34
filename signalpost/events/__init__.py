"""Events: the seam between the core and everything that reacts to it.

The core's verbs record an event for each change inside the change's transaction (record.py);
consumers registered by the apps (consumers.py) work through them at least once, in order for each
subject, idempotently, from the worker (work.py), woken on commit (wake.py). health.py says how far
behind each consumer is and whether the worker's jobs are alive.
"""

"""Durable jobs: timers, asynchronous continuations, service and external tasks, workers.

See docs/workers.md. The row types are in :mod:`sopflow.jobs.model`; the engine's job
methods (``run_due``, ``fetch_and_lock``, ``retry``, ...) in :mod:`sopflow.jobs.api`.
"""

"""An external-task worker process for the process tests: ``python tests/_job_workers.py
URL CATALOG TOPIC NAME LOCK_SECONDS``.

It fetches and locks tasks of TOPIC, completes each with ``{"oleh": NAME}`` and prints
``busy`` after its first completion; it exits when the store holds no external task
any more (tasks locked by a killed worker come back when their lock runs out).
"""

from __future__ import annotations

import logging
import sys
import time

import structlog

from sopflow.definitions.catalog import Catalog
from sopflow.errors import ConflictError, JobNotFoundError
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store


def main(url: str, catalog: str, topic: str, name: str, lock: float) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    engine = Engine(Catalog.from_directory(catalog), open_store(url))
    said = False
    while True:
        tasks = engine.fetch_and_lock(topic, name, max_tasks=10, lock_for=lock)
        if not tasks:
            if not engine.jobs(kind="external"):
                return
            time.sleep(0.1)
            continue
        for task in tasks:
            try:
                engine.complete_external(task.id, name, {"oleh": name})
            except (ConflictError, JobNotFoundError):
                continue  # our lock ran out and another worker has it
            if not said:
                sys.stdout.write("busy\n")
                sys.stdout.flush()
                said = True


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))

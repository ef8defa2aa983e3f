"""``sopflow worker``: run due jobs (timers, continuations, escalations) in real time."""

from __future__ import annotations

import argparse
import signal
from datetime import timedelta
from typing import Any

from sopflow.cli._common import add_store_args, print_json

__all__ = ["register"]


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _whole(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return int(text)


def _worker(args: argparse.Namespace) -> int:
    from sopflow.cli.runtime import open_engine
    from sopflow.jobs.worker import Worker

    engine = open_engine(args)
    worker = Worker(
        engine,
        worker_id=args.id,
        lease=timedelta(seconds=args.lease),
        batch=args.batch,
        max_poll=max(args.max_poll, 0.05),
    )

    def _stop(signum: int, frame: Any) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stats = worker.run(until_idle=args.until_idle, max_jobs=args.max_jobs)
    summary = {
        "worker": worker.worker_id,
        "ran": stats.ran,
        "done": stats.done,
        "failed": stats.failed,
        "incidents": stats.incidents,
        "skipped": stats.skipped,
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"{worker.worker_id}: {stats.ran} jobs ({stats.done} done, {stats.failed} failed, "
            f"{stats.incidents} incidents; {stats.skipped} taken by others)"
        )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="run due jobs: timers, asynchronous continuations, SLA escalations",
        description=(
            "Run due jobs continuously with row leases; several workers may share one "
            "database (see docs/workers.md). Stops on SIGTERM/Ctrl-C after the current job."
        ),
    )
    p.add_argument("--until-idle", action="store_true", help="exit when no job is due")
    p.add_argument("--max-jobs", type=_whole, metavar="N", help="exit after N jobs ran")
    p.add_argument("--id", help="worker id in the job leases (default: host:pid:random)")
    p.add_argument(
        "--lease",
        type=_positive,
        default=60.0,
        metavar="SECONDS",
        help="how long a taken job is this worker's; a dead worker's jobs wait this long "
        "(default: 60)",
    )
    p.add_argument("--batch", type=_whole, default=10, help="jobs taken at once (default: 10)")
    p.add_argument(
        "--max-poll",
        type=_positive,
        default=2.0,
        metavar="SECONDS",
        help="longest pause between polls when idle (default: 2)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_store_args(p)
    p.set_defaults(run=_worker)

"""``sopflow serve``: the web API, tasklist and dashboard (needs ``sopflow[web]``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sopflow.cli._common import add_store_args, catalog_directory
from sopflow.errors import DirectoryError, SopflowError

#: what ``serve --demo`` sets for every demo account without a password (printed)
DEMO_PASSWORD = "sopflow-demo"


class WebMissingError(SopflowError):
    """The web extra is not installed."""


def _need_web() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise WebMissingError(
            "the web layer is not installed: pip install 'sopflow[web]'"
        ) from None


def _demo_logins(db: str) -> list[tuple[str, str, str]]:
    """Give demo accounts the demo password (where none is set); (nip, nama, jabatan)."""
    from datetime import UTC, datetime

    from sopflow.runtime.views import to_ms
    from sopflow.stores import open_store
    from sopflow.web import set_password

    shown = []
    store: Any
    with open_store(db) as store:
        have = store.password_nips()
        directory = store.load_directory()
        now = datetime.now(UTC)
        for nip, person in sorted(directory.people.items()):
            held = directory.held(nip, now)
            if not held:
                continue
            if nip not in have:
                set_password(store, nip, DEMO_PASSWORD, at=to_ms(now))
            shown.append((nip, person.nama, held[0][1].nama))
    return shown


def _run(args: argparse.Namespace) -> int:
    _need_web()
    import uvicorn

    db, catalog = args.db, str(catalog_directory(args.catalog))
    if args.demo:
        from sopflow.demo import DEFAULT_DB, run_demo

        if not Path(DEFAULT_DB).exists():
            run_demo()
        db = f"sqlite:///{DEFAULT_DB}"
        catalog = os.environ.get("SOPFLOW_CATALOG", "") or str(catalog_directory("bpmn"))
        logins = _demo_logins(db)
        print(
            f"sopflow serve --demo: log in at http://{args.host}:{args.port}/ with an NIP "
            f"below and the password {DEMO_PASSWORD!r}"
        )
        for nip, nama, jabatan in logins:
            if "Purbalingga" in jabatan:
                print(f"  {nip}  {jabatan} ({nama})")
        print(f"  ... {len(logins)} accounts in all (sopflow staff show NIP --db {db})")
    if args.workers < 1:
        raise DirectoryError("--workers must be at least 1", field="workers")
    env = {
        "SOPFLOW_DB": db,
        "SOPFLOW_CATALOG": catalog,
        "SOPFLOW_WEB_TRUSTED_HEADER": args.trusted_header or "",
        "SOPFLOW_WEB_TRUSTED_PROXIES": " ".join(args.trusted_proxy),
        "SOPFLOW_WEB_ADMINS": " ".join(args.admin),
        "SOPFLOW_WEB_OPERATORS": " ".join(args.operator),
        "SOPFLOW_WEB_EVALUATOR_ROLES": " ".join(args.evaluator_role),
    }
    from sopflow.web import create_app, open_engine
    from sopflow.web._app import settings_from_environment

    # fails here, as one line, when the store or the catalog is unusable
    app = create_app(open_engine(db, catalog), settings_from_environment({**os.environ, **env}))
    forwarded = ",".join(args.trusted_proxy) or None
    if args.workers == 1:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            proxy_headers=True,
            forwarded_allow_ips=forwarded,
            log_level="info",
        )
    else:
        app.state.sopflow.store.close()
        os.environ.update(env)  # read by each worker's app_from_environment
        uvicorn.run(
            "sopflow.web:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            forwarded_allow_ips=forwarded,
            log_level="info",
        )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the REST API, the tasklist and the dashboard (sopflow[web])",
        description="The web layer over the engine (docs/web.md).",
    )
    add_store_args(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="serve the database `sopflow demo` leaves, with demo passwords",
    )
    p.add_argument(
        "--trusted-header",
        metavar="NAME",
        help="single sign-on: a header carrying the NIP (off by default)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a proxy address the trusted header is honoured from (repeatable)",
    )
    p.add_argument(
        "--admin",
        action="append",
        default=[],
        metavar="NIP",
        help="an NIP that may write the directory through the API (repeatable)",
    )
    p.add_argument(
        "--operator",
        action="append",
        default=[],
        metavar="NIP",
        help="an NIP that may send messages and signals, work external tasks and retry "
        "incidents through the API (repeatable)",
    )
    p.add_argument(
        "--evaluator-role",
        action="append",
        default=[],
        metavar="PERAN",
        help="peran of the positions that evaluate SOPs (repeatable; default: organisasi, "
        "the Bagian Organisasi; docs/authority.md)",
    )
    p.set_defaults(run=_run)

"""sopflow's web layer (``pip install 'sopflow[web]'``): a REST API, a tasklist and a
monitoring dashboard, as one ASGI application over the public :class:`~sopflow.Engine`.

It decides nothing itself: every read and action goes through the engine and its
authority rules, so the browser, the API and the CLI agree on who may do what::

    from sopflow.web import create_app
    app = create_app(engine)               # serve it, or mount it:
    office_app.mount("/sop", app)

See docs/web.md.
"""

from __future__ import annotations

from sopflow.web._app import app_from_environment, create_app, open_engine
from sopflow.web._passwords import hash_password, set_password, verify_password
from sopflow.web._settings import WebSettings

__all__ = [
    "WebSettings",
    "app_from_environment",
    "create_app",
    "hash_password",
    "open_engine",
    "set_password",
    "verify_password",
]

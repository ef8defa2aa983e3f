"""How a deployment runs the web layer: sessions, login limits, single sign-on, admins."""

from __future__ import annotations

from dataclasses import dataclass, field

from sopflow.authority.evaluation import EVALUATOR_ROLES

__all__ = ["WebSettings"]


@dataclass(frozen=True)
class WebSettings:
    """What an office decides about its web front; the defaults suit one kecamatan.

    ``trusted_header`` (e.g. ``X-Remote-User``) names a header carrying the NIP that a
    reverse proxy doing single sign-on sets; it is honoured only from ``trusted_proxies``
    (client addresses as the ASGI server sees them), and is off when None, so a browser
    can never log itself in by sending the header. ``admins`` are the NIPs that may write
    the staff directory through the API. ``failure_delay`` seconds are waited per failed
    login already on record (doubling, at most 4 s), which makes guessing slow before
    the limits (per account, per address, within ``failure_window_minutes``) refuse it.
    ``operators`` are the NIPs of the accounts the office's programs and their keepers
    use: they may send messages and signals, fetch and answer external tasks and retry
    incidents (docs/web.md, "Operators"); everyone else is refused those calls.
    ``evaluator_roles`` are the ``peran`` of the positions that evaluate SOPs (default
    the Bagian Organisasi's ``organisasi``; docs/authority.md, "Who evaluates an SOP").
    """

    session_minutes: int = 8 * 60
    trusted_header: str | None = None
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)
    admins: frozenset[str] = field(default_factory=frozenset)
    operators: frozenset[str] = field(default_factory=frozenset)
    evaluator_roles: frozenset[str] = EVALUATOR_ROLES
    max_failures_account: int = 5
    max_failures_address: int = 20
    failure_window_minutes: int = 15
    failure_delay: float = 0.5
    #: the cookie's Secure flag: None = when the request came over https (directly or,
    #: behind a proxy, as uvicorn's --proxy-headers reports it)
    secure_cookies: bool | None = None

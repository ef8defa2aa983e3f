"""Who is asking: sessions, the trusted single-sign-on header, HTTP Basic, CSRF, throttling.

A request is authenticated in this order: the trusted header (only from a configured
proxy address; it opens a session like a login, so CSRF works the same), HTTP Basic
(API clients; no cookie, so no CSRF), then the session cookie. A cookie-authenticated
request that changes anything must carry the session's CSRF token (form field ``csrf``
or header ``X-CSRF-Token``). A session ends at its expiry, at logout, when the password
changes, and as soon as its person holds no position any more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request

from sopflow.authority.nip import normalize_nip
from sopflow.errors import AuthenticationError, CsrfError, LoginThrottledError, NipError
from sopflow.runtime.views import Actor, to_ms
from sopflow.stores._accounts import WebSession
from sopflow.web._context import WebContext
from sopflow.web._passwords import hash_password, verify_password

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PRELOGIN_COOKIE",
    "SESSION_COOKIE",
    "Principal",
    "authenticate",
    "check_csrf",
    "login",
    "logout",
]

SESSION_COOKIE = "sopflow_session"
#: a random value the login form repeats (double submit): no login CSRF before a session
PRELOGIN_COOKIE = "sopflow_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The person behind a request, and how they proved it."""

    nip: str
    name: str | None
    via: str  # "cookie", "header" or "basic"
    csrf: str | None = None
    token: str | None = None  # a new session token to set as cookie (header login)

    @property
    def actor(self) -> Actor:
        return Actor(self.nip)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _name(ctx: WebContext, nip: str) -> str | None:
    person = ctx.directory().people.get(nip)
    return person.nama if person else None


def _open_session(ctx: WebContext, nip: str) -> tuple[str, WebSession]:
    now = to_ms(ctx.now())
    token = secrets.token_urlsafe(32)
    session = WebSession(
        nip=nip,
        csrf=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + ctx.settings.session_minutes * 60_000,
    )
    ctx.store.create_session(_digest(token), session)
    return token, session


def login(ctx: WebContext, nip_text: str, password: str, address: str) -> tuple[str, WebSession]:
    """Check NIP and password; a new session (token, row) or an AuthenticationError.

    Failures are counted per account and per address in the store (so every worker
    counts the same) and each one is answered more slowly than the last.
    """
    settings = ctx.settings
    now = ctx.now()
    now_ms = to_ms(now)
    since = to_ms(now - timedelta(minutes=settings.failure_window_minutes))
    try:
        nip = normalize_nip(nip_text)
    except NipError:
        nip = nip_text.strip()[:64]
    keys = (f"nip:{nip}", f"addr:{address}")
    counts = [ctx.store.login_failures(key, since) for key in keys]
    retry = settings.failure_window_minutes * 60
    if counts[0] >= settings.max_failures_account:
        raise LoginThrottledError(
            f"too many failed logins for NIP {nip}; try again in "
            f"{settings.failure_window_minutes} minutes",
            retry_after=retry,
        )
    if counts[1] >= settings.max_failures_address:
        raise LoginThrottledError(
            f"too many failed logins from {address}; try again in "
            f"{settings.failure_window_minutes} minutes",
            retry_after=retry,
        )
    digest = ctx.store.password_hash(nip)
    ok, rehash = verify_password(digest, password)
    if not ok or not ctx.holds_any_position(nip):
        ctx.store.record_login_failure(keys, now_ms)
        delay = min(4.0, settings.failure_delay * (2 ** max(counts)))
        if settings.failure_delay > 0:
            time.sleep(delay)
        raise AuthenticationError("NIP or password is wrong, or the NIP holds no position")
    if rehash:
        ctx.store.set_password_hash(nip, hash_password(password), now_ms)
    ctx.store.clear_login_failures(keys[0], before=since)
    return _open_session(ctx, nip)


def logout(ctx: WebContext, request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        ctx.store.end_session(_digest(token))


def _from_header(ctx: WebContext, request: Request) -> Principal | None:
    header = ctx.settings.trusted_header
    if not header or client_address(request) not in ctx.settings.trusted_proxies:
        return None
    value = request.headers.get(header)
    if not value:
        return None
    try:
        nip = normalize_nip(value)
    except NipError as exc:
        raise AuthenticationError(f"trusted header {header}: {exc}") from None
    if not ctx.holds_any_position(nip):
        raise AuthenticationError(f"NIP {nip} holds no position")
    session = _cookie_session(ctx, request)
    if session is not None and session[1].nip == nip:
        return Principal(nip, _name(ctx, nip), "header", csrf=session[1].csrf)
    token, opened = _open_session(ctx, nip)
    return Principal(nip, _name(ctx, nip), "header", csrf=opened.csrf, token=token)


def _from_basic(ctx: WebContext, request: Request) -> Principal | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError("malformed Basic credentials") from None
    nip_text, _, password = decoded.partition(":")
    token, session = login(ctx, nip_text, password, client_address(request))
    ctx.store.end_session(_digest(token))  # Basic is per request: keep no session
    return Principal(session.nip, _name(ctx, session.nip), "basic")


def _cookie_session(ctx: WebContext, request: Request) -> tuple[str, WebSession] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 256:
        return None
    digest = _digest(token)
    session = ctx.store.web_session(digest)
    if session is None:
        return None
    if session.expires_at <= to_ms(ctx.now()):
        ctx.store.end_session(digest)
        return None
    return digest, session


def authenticate(ctx: WebContext, request: Request) -> Principal:
    """The principal of ``request``, or AuthenticationError."""
    found = _from_header(ctx, request) or _from_basic(ctx, request)
    if found is not None:
        return found
    cookie = _cookie_session(ctx, request)
    if cookie is None:
        raise AuthenticationError("not logged in, or the session has ended")
    _, session = cookie
    if not ctx.holds_any_position(session.nip):
        ctx.store.end_sessions(session.nip)
        raise AuthenticationError(f"NIP {session.nip} holds no position any more")
    return Principal(session.nip, _name(ctx, session.nip), "cookie", csrf=session.csrf)


def check_csrf(principal: Principal, request: Request, submitted: str | None) -> None:
    """A state-changing request carried by a cookie must repeat the session's token."""
    if request.method in SAFE_METHODS or principal.via == "basic":
        return
    given = submitted or request.headers.get(CSRF_HEADER) or ""
    if not principal.csrf or not hmac.compare_digest(given.encode(), principal.csrf.encode()):
        raise CsrfError("missing or wrong CSRF token (reload the page and try again)")


def check_prelogin(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(PRELOGIN_COOKIE) or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), (submitted or "").encode()):
        raise CsrfError("the login form has expired (reload the page and try again)")

"""Password hashes: argon2id (memory-hard), through argon2-cffi; never the password itself.

``sopflow staff password NIP`` and the demo call :func:`set_password`; the login checks
with :func:`verify_password`, which also reports when a hash was made with older
parameters so it can be re-hashed on a good login.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sopflow.errors import DirectoryError, StoreError

__all__ = ["MIN_LENGTH", "hash_password", "set_password", "verify_password"]

#: NIST SP 800-63B's floor for a memorised secret chosen by the user
MIN_LENGTH = 8
MAX_LENGTH = 1024

_HASHER = PasswordHasher()  # argon2id, 64 MiB, t=3 (RFC 9106's second recommendation)
#: a hash to verify against when the account has none, so an unknown NIP costs the same
_DUMMY = _HASHER.hash("sopflow-no-such-account")


def hash_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise DirectoryError(
            f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters", field="password"
        )
    return _HASHER.hash(password)


def verify_password(digest: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash); an account without a hash never matches."""
    if len(password) > MAX_LENGTH:
        return False, False
    try:
        _HASHER.verify(digest or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if digest is None:
        return False, False
    return True, _HASHER.check_needs_rehash(digest)


def set_password(store: Any, nip: str, password: str, *, at: int) -> None:
    """Store the hash of ``nip``'s password (a pegawai of the directory); ends their sessions."""
    if not hasattr(store, "set_password_hash"):
        raise StoreError(f"{store.url}: this store cannot hold passwords")
    directory = store.load_directory()
    if nip not in directory.people:
        raise DirectoryError(f"no pegawai with NIP {nip} in the directory", field="nip")
    store.set_password_hash(nip, hash_password(password), at)

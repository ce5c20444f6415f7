"""Password hashes: argon2id for every password fleetyard stores.

Part of `auth/` (DESIGN.md "Stack": argon2-cffi). Hashing and checking cost tens of
milliseconds of CPU on purpose, so the async callers run them in a worker thread and the
event loop keeps serving. Accounts imported from openBalena keep their bcrypt hashes until
their next login, which checks the bcrypt hash and stores an argon2id one instead
(`needs_rehash`); bcrypt is never used to make a hash.
"""

from __future__ import annotations

import asyncio
import secrets
import string

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8  # as the reference's password rule

# argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ~50 ms of one
# core per check. argon2-cffi's default (64 MiB, 3 passes, 4 lanes) costs several times
# that, which on a small server makes every login attempt a cheap way to load it.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A hash to check against when the account does not exist, so an unknown username takes
# as long to refuse as a wrong password.
_DUMMY = _hasher.hash(secrets.token_hex(16))


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Password must be at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; False for a missing or foreign hash."""
    if stored is None:  # no such account: spend the same time, then refuse
        _matches(_DUMMY, password)
        return False
    if stored.startswith(_BCRYPT):
        return _bcrypt_matches(stored, password)
    if not stored.startswith("$argon2"):
        return False
    return _matches(stored, password)


_BCRYPT = ("$2a$", "$2b$", "$2y$")


def _bcrypt_matches(stored: str, password: str) -> bool:
    """openBalena's hashes (node's bcrypt, which reads at most 72 bytes of a password)."""
    try:
        return bcrypt.checkpw(password.encode()[:72], stored.encode())
    except ValueError:  # a damaged hash
        return False


def _matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """A hash made with weaker parameters than today's: re-hash it at the next login."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


async def hash_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_async(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, stored, password)


def generate_password(length: int = 20) -> str:
    """A password for a bootstrapped admin: letters and digits, easy to copy."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))

"""Password hashing and the password policy.

New hashes are argon2id at OWASP's parameters. Hashes that Werkzeug made for the
tutorial (``pbkdf2:``, ``scrypt:``) still verify and are reported as needing a
rehash, so they are upgraded at the user's next login.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2 import Type
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from werkzeug.security import check_password_hash

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 4096

#: OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
DEFAULT_HASH_PARAMETERS = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}

_LEGACY_PREFIXES = ("pbkdf2:", "scrypt:")

#: ``time.monotonic()`` when this process last ran argon2, or ``None``.
_last_argon2_run: float | None = None


def last_argon2_run() -> float | None:
    """When this process last hashed or checked a password with argon2
    (``time.monotonic()``), or ``None``. Each run leaves its 19 MiB of working
    memory free in the heap; the gunicorn workers hand it back to the system
    once logins stop (``gunicorn.conf.py``)."""
    return _last_argon2_run


def _note_argon2_run() -> None:
    global _last_argon2_run  # noqa: PLW0603 (one fact about the process)
    _last_argon2_run = time.monotonic()


@functools.cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        type=Type.ID,
    )


class Passwords:
    """Hashes and verifies passwords with one set of argon2id parameters."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hasher = _hasher(time_cost, memory_cost, parallelism)

    def hash(self, password: str) -> str:
        try:
            return self._hasher.hash(password)
        finally:
            _note_argon2_run()

    def verify(self, stored_hash: str, password: str) -> tuple[bool, bool]:
        """Check ``password`` against ``stored_hash``.

        :return: ``(matches, needs_rehash)``. ``needs_rehash`` is true when the
            hash is a legacy Werkzeug one or uses other argon2 parameters.
        """
        if stored_hash.startswith(_LEGACY_PREFIXES):
            return check_password_hash(stored_hash, password), True
        try:
            self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False, False
        finally:
            _note_argon2_run()
        return True, self._hasher.check_needs_rehash(stored_hash)

    @functools.cached_property
    def dummy_hash(self) -> str:
        """A hash to verify against when the user does not exist, so that a
        failed login takes as long for a missing user as for a wrong password."""
        return self.hash("not a real password: only here to spend time")


def _load_common_passwords() -> frozenset[str]:
    """The common passwords long enough to pass the length rule.

    The list is zxcvbn's (30,000 passwords from leaked data sets, most common
    first). Only its data module is loaded: importing the package would also
    build zxcvbn's matchers, which this policy does not use, at twice the memory.
    """
    spec = importlib.util.find_spec("zxcvbn")
    if spec is None or spec.origin is None:
        raise RuntimeError("the zxcvbn package is required for the password policy")
    path = Path(spec.origin).with_name("frequency_lists.py")
    data_spec = importlib.util.spec_from_file_location("_zxcvbn_lists", path)
    if data_spec is None or data_spec.loader is None:
        raise RuntimeError(f"cannot load the common password list from {path}")
    module = importlib.util.module_from_spec(data_spec)
    data_spec.loader.exec_module(module)
    passwords: list[str] = module.FREQUENCY_LISTS["passwords"]
    return frozenset(p for p in passwords if len(p) >= PASSWORD_MIN_LENGTH)


@functools.cache
def common_passwords() -> frozenset[str]:
    return _load_common_passwords()


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used, or ``None`` if it may.

    There are no composition rules: any characters, at least
    ``PASSWORD_MIN_LENGTH`` of them, that are not a well-known password.
    """
    if not password:
        return "Password is required."
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Password must be at least {PASSWORD_MIN_LENGTH} characters long."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Password must be at most {PASSWORD_MAX_LENGTH} characters long."
    if username and password.casefold() == username.casefold():
        return "Password must not be the same as the username."
    if password.casefold() in common_passwords():
        return (
            "This password is one of the most commonly used passwords, "
            "which attackers try first. Please choose another."
        )
    return None

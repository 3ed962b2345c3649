"""Secrets kept in the database sealed (Fernet, from ``cryptography``) under
a key derived from ``SECRET_KEY`` for one purpose, so that a copy of the
database alone opens nothing; secrets sealed before a key rotation still open
through ``SECRET_KEY_FALLBACKS``."""

from __future__ import annotations

import base64
import typing as t

from flask import current_app

if t.TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

# cryptography is imported in the functions that use it: its Rust bindings
# would make every worker larger, and most never open a sealed secret.


def sealer(purpose: bytes) -> MultiFernet:
    """Seals with ``SECRET_KEY``'s key for ``purpose``; opens with it or a
    fallback's (``InvalidToken`` when none fits)."""
    from cryptography.fernet import Fernet
    from cryptography.fernet import MultiFernet

    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    keys = [current_app.secret_key, *fallbacks]
    return MultiFernet([Fernet(_derived(key, purpose)) for key in keys if key])


def _derived(key: str | bytes, purpose: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = key.encode() if isinstance(key, str) else key
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return base64.urlsafe_b64encode(derived.derive(raw))

"""Each actor's RSA key pair (``ActorKey``): made the first time it is
needed, kept with its private half encrypted under a key derived from
``SECRET_KEY`` (so a copy of the database alone signs nothing), and replaced
by ``flask federation rotate-keys``.

Made with ``cryptography``; 2048-bit RSA, as Mastodon's keys are.
"""

from __future__ import annotations

import typing as t

from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import ActorKey
from flaskr.services.base.sealing import sealer
from flaskr.services.base.security_log import log_event

if t.TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

# cryptography is imported in the functions that use it: a worker that
# never signs for federation never loads it.

#: What the sealing key is derived for: changing it leaves every kept
#: secret unreadable.
SEALED_AS = b"flaskr actor key"

KEY_BITS = 2048


def _new_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    public_pem = (
        private.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return public_pem, sealer(SEALED_AS).encrypt(private_pem).decode()


def key_of(owner: str) -> ActorKey:
    """``owner``'s key pair, made now if it has none, in the caller's
    transaction (two processes making one at once keep the first)."""
    found = db.session.get(ActorKey, owner)
    if found is not None:
        return found
    public_pem, private_pem = _new_pair()
    db.session.execute(
        insert_for_dialect(ActorKey)
        .values(
            owner=owner,
            public_pem=public_pem,
            private_pem=private_pem,
            created=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["owner"])
    )
    made = db.session.get(ActorKey, owner)
    assert made is not None
    return made


def public_pem(owner: str) -> str:
    return key_of(owner).public_pem


def private_key(owner: str) -> rsa.RSAPrivateKey | None:
    """``owner``'s private key, or ``None`` if it was written under a
    ``SECRET_KEY`` no longer configured (logged: rotate the keys)."""
    from cryptography.fernet import InvalidToken
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    row = key_of(owner)
    try:
        pem = sealer(SEALED_AS).decrypt(row.private_pem.encode())
    except InvalidToken:
        log_event("actor_key_unreadable", owner=owner)
        return None
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def rotate(owner: str) -> None:
    """Give ``owner`` a new key pair, in the caller's transaction. Remote
    servers fetch the actor again when a signature fails to check."""
    row = key_of(owner)
    row.public_pem, row.private_pem = _new_pair()
    row.created = utcnow()
    log_event("actor_key_rotated", owner=owner)

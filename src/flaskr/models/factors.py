"""Second factors and passkeys: what proves an account is its owner's
beyond the password. Secrets are kept so that a copy of the database opens
no account: recovery codes as hashes, the authenticator app's secret
encrypted with a key derived from ``SECRET_KEY``; a passkey's public key is
no secret."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flaskr.db import BigId
from flaskr.db import Model
from flaskr.db import UTCDateTime
from flaskr.db import utcnow

#: The longest name its owner may give a passkey.
PASSKEY_NAME_MAX_LENGTH = 60


class Passkey(Model):
    """A WebAuthn credential: a key pair whose private half stays on the
    owner's device or password manager."""

    __tablename__ = "passkey"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    #: The authenticator's id for it, sent back with every assertion.
    credential_id: Mapped[bytes] = mapped_column(sa.LargeBinary(1023), unique=True)
    #: The public key, COSE-encoded, that checks its signatures.
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: The authenticator's signature counter at its last use; 0 for those
    #: that keep none (most synced passkeys).
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: How the browser may reach it (``usb``, ``internal``…), comma-separated.
    transports: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Whether a password manager syncs it between devices.
    backed_up: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(sa.String(PASSKEY_NAME_MAX_LENGTH))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuthenticatorApp(Model):
    """An account's authenticator app (TOTP, RFC 6238): at most one."""

    __tablename__ = "authenticator_app"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    #: The shared secret, encrypted (``services/accounts/authenticator.py``).
    secret: Mapped[str] = mapped_column(sa.String(400))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a first code confirmed it; until then it is being set up and
    #: does not guard the login.
    confirmed: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The time step of the last code accepted: a code is accepted once.
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_used: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(Model):
    """One of an account's single-use recovery codes, as its SHA-256: each
    carries more than 112 bits of chance, so a plain hash is enough (ASVS
    6.5.2)."""

    __tablename__ = "recovery_code"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    used: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

"""Recovery codes: ten single-use codes that stand in for a lost second
factor. Shown once when made, kept as SHA-256 hashes: each is 24 characters
of a 32-letter alphabet (120 bits of chance), more than the 112 bits under
which ASVS 6.5.2 would ask for a slow, salted hash.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import RecoveryCode
from flaskr.models import User
from flaskr.services.accounts.notices import tell_owner

COUNT = 10
#: Crockford's base 32: no I, L, O or U, so a code read aloud or copied by
#: hand survives (I and L read as 1, O as 0).
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LENGTH = 24
GROUP = 4
_READ_AS = str.maketrans({"i": "1", "l": "1", "o": "0", "-": None, " ": None})


def _normalized(code: str) -> str:
    return code.strip().lower().translate(_READ_AS)


def looks_like(code: str) -> bool:
    """Whether ``code`` is shaped like a recovery code (not an app's code)."""
    normal = _normalized(code)
    return len(normal) == LENGTH and all(char in ALPHABET for char in normal)


def _hash(normal: str) -> str:
    return hashlib.sha256(normal.encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def left(user: User) -> int:
    """How many of the account's recovery codes are unused."""
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used.is_(None))
    )
    return int(count or 0)


def make_new(user: User) -> list[str]:
    """Replace the account's recovery codes with :data:`COUNT` new ones and
    return them: this is the only time they can be read. Commits, logs and
    tells the owner."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash(_normalized(code)))
        for code in codes
    )
    tell_owner(
        user,
        "recovery_codes_made",
        f"{COUNT} new recovery codes were made for your account; the old ones"
        " no longer work.",
    )
    db.session.commit()
    return codes


def use(user: User, code: str) -> int | None:
    """Spend one of the account's unused recovery codes; the number left,
    or ``None`` if ``code`` is not one. Tells the owner; the caller commits.

    The code is spent by a conditional ``UPDATE``, so two requests racing
    with the same code cannot both succeed.
    """
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(_normalized(code)),
            RecoveryCode.used.is_(None),
        )
        .values(used=utcnow())
        .execution_options(synchronize_session=False)
    )
    if affected_rows(spent) != 1:
        return None
    remaining = left(user)
    tell_owner(
        user,
        "recovery_code_used",
        f"A recovery code was used to log in to your account; {remaining}"
        f" {'is' if remaining == 1 else 'are'} left.",
        left=remaining,
    )
    return remaining

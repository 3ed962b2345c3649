"""When an account was last seen: at login and as its sessions and tokens
are used, to the hour, so that a signed-in request writes at most once an
hour rather than once each (the users page shows it)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import User


def _this_hour() -> dt.datetime:
    return utcnow().replace(minute=0, second=0, microsecond=0)


def mark_seen(user_id: int) -> None:
    """Set the account's ``last_seen`` to this hour (at login). The caller
    commits (a login's session row goes out with it)."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user_id)
        .values(last_seen=_this_hour())
        .execution_options(synchronize_session=False)
    )


def note_seen(user: User) -> None:
    """Set ``user.last_seen`` to this hour if it says an earlier one; commit
    only then (one write an hour per account, whatever the traffic)."""
    hour = _this_hour()
    if user.last_seen is not None and user.last_seen >= hour:
        return
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(last_seen=hour)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # As loaded, so that nothing writes it again at the next flush.
    set_committed_value(user, "last_seen", hour)

"""Who may join the site: the join mode, the role new accounts get, refused
mail domains, and invitations.

Modes: ``open`` (anyone registers), ``approval`` (accounts wait, ``pending``,
until a moderator approves them), ``invitation`` (only with an invitation's
single-use link) and ``closed``. The first account of a fresh site is made
whatever the mode: it becomes the administrator.

An invitation's token is shown once to whoever made it; only its SHA-256 is
stored. It is used up by one ``UPDATE ... WHERE used IS NULL`` in the
registration's transaction, so two registrations racing with one link make
one account. Administrators invite with any joining role; editors invite
authors, contributors and readers (never editors), and withdraw only their
own invitations.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import User
from flaskr.models.governance import EDITOR
from flaskr.models.governance import Invitation
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.site import settings

OPEN = "open"
APPROVAL = "approval"
INVITATION = "invitation"
CLOSED = "closed"
JOIN_MODES = (OPEN, APPROVAL, INVITATION, CLOSED)
#: What the Settings page calls each mode.
JOIN_MODE_LABELS = {
    OPEN: "Open: anyone may register",
    APPROVAL: "By approval: new accounts wait until a moderator approves them",
    INVITATION: "By invitation: only with an invitation link",
    CLOSED: "Closed: nobody may register",
}

#: Refused domains: at most this many lines.
REFUSED_DOMAINS_MAX = 1000
#: An invitation lasts at most this many days.
INVITATION_DAYS_MAX = 90

CLOSED_MESSAGE = "Registration is closed on this site."
INVITATION_NEEDED = (
    "This site takes new members by invitation only. Ask a member of the site"
    " for an invitation link."
)
INVITATION_INVALID = (
    "This invitation link is not valid: it may have expired, been used"
    " already or been withdrawn. Ask whoever invited you for a new one."
)
API_REGISTRATION_CLOSED = (
    "Registration through the API is open only when anyone may join."
    " Register on the website instead."
)


@dataclasses.dataclass(frozen=True)
class JoinSettings:
    """The Settings page's "Joining" section."""

    join_mode: str
    default_role: str
    #: Normalized, one a line.
    refused_email_domains: str


def join_settings() -> JoinSettings:
    row = settings()
    return JoinSettings(
        join_mode=row.join_mode,
        default_role=row.default_role,
        refused_email_domains=row.refused_email_domains,
    )


def join_mode_problem(mode: str) -> str | None:
    return None if mode in JOIN_MODES else "Choose one of the ways to join offered."


def _domain(text: str) -> str | None:
    """``text`` as a domain in lower case ASCII (IDNA), or ``None``."""
    import idna

    try:
        ascii_domain = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(labels):
        return None
    for label in labels:
        if len(label) > 63 or label.startswith("-") or label.endswith("-"):
            return None
        if not all(
            char.isascii() and (char.isalnum() or char == "-") for char in label
        ):
            return None
    return ascii_domain.lower()


def _domain_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        for prefix in ("*.", "@", "."):
            line = line.removeprefix(prefix)
        if line:
            lines.append(line)
    return lines


def refused_domains_problem(text: str) -> str | None:
    """What is wrong with a list of refused domains, one a line, or ``None``."""
    lines = _domain_lines(text)
    if len(lines) > REFUSED_DOMAINS_MAX:
        return f"List at most {REFUSED_DOMAINS_MAX} domains."
    bad = [line for line in lines if _domain(line) is None]
    if bad:
        shown = ", ".join(bad[:3]) + (" …" if len(bad) > 3 else "")
        return f"Not a domain: {shown}. Write one domain a line, like example.com."
    return None


def normalized_domains(text: str) -> str:
    """The list checked by :func:`refused_domains_problem`, each domain in
    lower case ASCII, without repeats, one a line."""
    domains: list[str] = []
    for line in _domain_lines(text):
        domain = _domain(line)
        if domain is not None and domain not in domains:
            domains.append(domain)
    return "\n".join(domains)


def refused_address_problem(address: str) -> str | None:
    """A message if ``address`` (a valid one) is at a refused domain or one of
    its subdomains, else ``None``."""
    domain = _domain(address.rpartition("@")[2].strip().rstrip("."))
    refused = settings().refused_email_domains
    if domain is None or not refused:
        return None
    for entry in refused.split("\n"):
        if domain == entry or domain.endswith("." + entry):
            return (
                "This site does not accept addresses at that domain;"
                " use another address."
            )
    return None


def update_join_settings(
    actor: User, join_mode: str, default_role: str, refused_email_domains: str
) -> None:
    """Change who may join; commit and record ``join_settings_changed``.

    :raise NotAllowed: ``actor`` is not an administrator.
    :raise Invalid: with ``join_mode``, ``default_role`` or
        ``refused_email_domains`` problems (nothing changed).
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only an administrator changes who may join.")
    Invalid.collect(
        {
            "join_mode": join_mode_problem(join_mode),
            "default_role": roles.role_problem(default_role, roles.JOINING_ROLES),
            "refused_email_domains": refused_domains_problem(refused_email_domains),
        }
    )
    row = settings()
    domains = normalized_domains(refused_email_domains)
    before = (row.join_mode, row.default_role, row.refused_email_domains)
    row.join_mode, row.default_role = join_mode, default_role
    row.refused_email_domains = domains
    if before != (join_mode, default_role, domains):
        count = len(domains.split("\n")) if domains else 0
        audit.record(
            actor,
            "join_settings_changed",
            detail=f"mode {join_mode}, default role {default_role},"
            f" {count} refused domain{'s' if count != 1 else ''}",
        )
    db.session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _usable() -> sa.ColumnElement[bool]:
    return sa.and_(Invitation.used.is_(None), Invitation.expires > utcnow())


def find_invitation(token: str) -> Invitation | None:
    """The open (unused, unexpired, not withdrawn) invitation of ``token``."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        sa.select(Invitation).where(
            Invitation.token_hash == _token_hash(token), _usable()
        )
    )


def is_fresh_site() -> bool:
    """No account yet: the first one is made whatever the mode."""
    return db.session.scalar(sa.select(User.id).limit(1)) is None


@dataclasses.dataclass(frozen=True)
class Entry:
    """How someone may join now: the registration page's terms."""

    #: A form may be offered.
    allowed: bool
    #: Why not, or what to know (for people).
    message: str = ""
    #: The account will wait for approval.
    pending: bool = False
    #: The role the account gets.
    role: str = ""
    #: An invitation lets them in (used up with the registration).
    invited: bool = False


def entry(invitation_token: str | None) -> Entry:
    """The terms of joining now, with ``invitation_token`` if one is given."""
    if is_fresh_site():
        return Entry(True, role=settings().default_role)
    row = settings()
    if row.join_mode == CLOSED:
        return Entry(False, CLOSED_MESSAGE)
    if invitation_token:
        invitation = find_invitation(invitation_token)
        if invitation is None:
            return Entry(False, INVITATION_INVALID)
        return Entry(True, role=invitation.role, invited=True)
    if row.join_mode == INVITATION:
        return Entry(False, INVITATION_NEEDED)
    if row.join_mode == APPROVAL:
        return Entry(
            True,
            "New accounts wait until a moderator approves them.",
            pending=True,
            role=row.default_role,
        )
    return Entry(True, role=row.default_role)


def use_invitation(token: str, user: User) -> str:
    """Use up the invitation of ``token`` for ``user`` (flushed), in the
    caller's transaction; the role it gives.

    :raise NotAllowed: the invitation is not open (used meanwhile, too).
    """
    invitation = find_invitation(token)
    if invitation is None:
        raise NotAllowed(INVITATION_INVALID)
    used = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, _usable())
        .values(used=utcnow(), used_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(used) != 1:
        raise NotAllowed(INVITATION_INVALID)
    return invitation.role


def roles_to_invite(actor: User) -> tuple[str, ...]:
    """The roles ``actor`` may give by invitation (none: may not invite)."""
    if roles.may_govern(actor):
        return roles.JOINING_ROLES
    if roles.may_moderate(actor):
        return tuple(role for role in roles.JOINING_ROLES if role != EDITOR)
    return ()


def invitation_days_problem(days: int | None) -> str | None:
    if days is not None and not 1 <= days <= INVITATION_DAYS_MAX:
        return f"An invitation lasts from 1 to {INVITATION_DAYS_MAX} days."
    return None


def _days(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def make_invitation(
    actor: User, role: str, days: int | None = None
) -> tuple[Invitation, str]:
    """A new invitation giving ``role``, open for ``days`` (default
    ``INVITATION_DAYS``); commit and record ``invitation_made``.

    :return: the invitation and its token, which is not kept: show it once.
    :raise NotAllowed: ``actor`` may not invite.
    :raise Invalid: with ``role`` or ``days`` problems.
    """
    allowed = roles_to_invite(actor)
    if not allowed:
        raise NotAllowed("Only administrators and editors invite new members.")
    Invalid.collect(
        {
            "role": roles.role_problem(role, allowed),
            "days": invitation_days_problem(days),
        }
    )
    if days is None:
        days = int(current_app.config["INVITATION_DAYS"])
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_token_hash(token),
        created_by=actor.id,
        expires=utcnow() + dt.timedelta(days=days),
        role=role,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        actor,
        "invitation_made",
        detail=f"invitation {invitation.id}: {role}, {_days(days)}",
    )
    db.session.commit()
    return invitation, token


def withdraw_invitation(actor: User, invitation_id: int) -> None:
    """Withdraw an open invitation: its link stops working; commit and record
    ``invitation_withdrawn``.

    :raise NotAllowed: ``actor`` may not invite, or is an editor and the
        invitation is someone else's.
    :raise Invalid: no such open invitation (``invitation``).
    """
    if not roles_to_invite(actor):
        raise NotAllowed("Only administrators and editors withdraw invitations.")
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.id == invitation_id, _usable())
    )
    if invitation is None:
        raise Invalid.of("invitation", "This invitation is used, expired or gone.")
    if not roles.may_govern(actor) and invitation.created_by != actor.id:
        raise NotAllowed("Editors withdraw only their own invitations.")
    invitation.used = utcnow()
    audit.record(actor, "invitation_withdrawn", detail=f"invitation {invitation.id}")
    db.session.commit()


def open_invitations(actor: User) -> list[Invitation]:
    """The invitations whose links still work, the soonest to expire first.

    :raise NotAllowed: ``actor`` may not invite.
    """
    if not roles_to_invite(actor):
        raise NotAllowed("Only administrators and editors see invitations.")
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(_usable())
            .order_by(Invitation.expires, Invitation.id)
        )
    )

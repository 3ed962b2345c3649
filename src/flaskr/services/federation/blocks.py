"""Servers this site will not talk to, as administrators decide: a blocked
domain's activities are refused at the inbox, its followers and the
follows of it are dropped, and nothing more is delivered to it."""

from __future__ import annotations

import dataclasses
import re
import typing as t
import urllib.parse

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import BlockedDomain
from flaskr.models import FederationDelivery
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import RemoteFollowing
from flaskr.models import User
from flaskr.models.federation import DOMAIN_MAX_LENGTH
from flaskr.services.base import audit
from flaskr.services.base import roles
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.federation import ids
from flaskr.services.federation import remote_actors

REASON_MAX_LENGTH = 200
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PORT = re.compile(r"^[0-9]{1,5}$")
#: What a delivery to a blocked server is marked with.
BLOCKED_ERROR = "domain blocked"


def normalise_domain(text: str) -> str:
    """The domain as blocks keep it: lower case, in its IDNA (ASCII) form,
    without a scheme, a path or a last dot; a port kept if given.

    :raise Invalid: not a domain name.
    """
    value = text.strip()
    if "://" in value:
        value = urllib.parse.urlsplit(value).netloc
    value = value.split("/", 1)[0].rsplit("@", 1)[-1].strip().lower()
    host, _, port = value.partition(":")
    host = host.rstrip(".")
    problem = "Give a domain name, such as social.example."
    if not host or (port and not _PORT.match(port)) or len(value) > DOMAIN_MAX_LENGTH:
        raise Invalid({"domain": [problem]})
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid({"domain": [problem]}) from None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise Invalid({"domain": [problem]})
    return f"{ascii_host}:{port}" if port else ascii_host


def _covers(blocked: str, domain: str) -> bool:
    """Whether a block of ``blocked`` covers ``domain`` (a host with maybe a
    port): the same host, or one under it; a block with a port covers that
    port only."""
    if ":" in blocked:
        return domain == blocked
    host = domain.split(":", 1)[0]
    return host == blocked or host.endswith("." + blocked)


def _actors_under(domain: str) -> sa.Select[t.Any]:
    if ":" in domain:
        covered = RemoteActor.domain == domain
    else:
        covered = sa.or_(
            RemoteActor.domain == domain,
            RemoteActor.domain.startswith(domain + ":", autoescape=True),
            RemoteActor.domain.endswith("." + domain, autoescape=True),
            RemoteActor.domain.contains("." + domain + ":", autoescape=True),
        )
    return sa.select(RemoteActor.id).where(covered)


def block_domain(actor: User, domain: str, reason: str = "") -> str:
    """Block ``domain`` (and the domains under it): its followers of this
    site's writers and this site's users' follows of its actors go, and its
    deliveries still waiting are marked failed; all in one transaction with
    an audit entry. Return the domain as kept.

    :raise NotAllowed: ``actor`` is not an administrator.
    :raise Invalid: not a domain, this site's own, or already blocked.
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only administrators block servers.")
    reason = " ".join(reason.split())
    Invalid.collect(
        {
            "reason": (
                f"Keep the reason under {REASON_MAX_LENGTH} characters."
                if len(reason) > REASON_MAX_LENGTH
                else None
            )
        }
    )
    domain = normalise_domain(domain)
    own = ids.host() if ids.base() else ""
    if own and (_covers(domain, own) or _covers(domain, own.split(":", 1)[0])):
        raise Invalid({"domain": ["This is this site's own domain."]})
    if db.session.get(BlockedDomain, domain) is not None:
        raise Invalid({"domain": ["This domain is already blocked."]})
    db.session.add(BlockedDomain(domain=domain, reason=reason, blocked_by=actor.id))
    actors = _actors_under(domain)
    followers = db.session.execute(
        sa.delete(RemoteFollower).where(RemoteFollower.actor_id.in_(actors))
    )
    followings = db.session.execute(
        sa.delete(RemoteFollowing).where(RemoteFollowing.actor_id.in_(actors))
    )
    waiting = db.session.execute(
        sa.select(FederationDelivery.id, FederationDelivery.inbox).where(
            FederationDelivery.done.is_(None), FederationDelivery.failed.is_(False)
        )
    ).all()
    stopped = [
        row.id for row in waiting if _covers(domain, remote_actors.domain_of(row.inbox))
    ]
    for start in range(0, len(stopped), 500):
        db.session.execute(
            sa.update(FederationDelivery)
            .where(FederationDelivery.id.in_(stopped[start : start + 500]))
            .values(failed=True, last_error=BLOCKED_ERROR, next_attempt=utcnow())
        )
    dropped = (
        f"; {_count(followers)} followers, {_count(followings)} follows"
        f" and {len(stopped)} deliveries dropped"
    )
    audit.record(
        actor,
        "federation.block_domain",
        detail=f"{domain}{': ' + reason if reason else ''}{dropped}",
    )
    db.session.commit()
    return domain


def _count(result: sa.Result[object]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def unblock_domain(actor: User, domain: str) -> None:
    """Talk to ``domain`` again (what the block dropped stays dropped).

    :raise NotAllowed: ``actor`` is not an administrator.
    :raise Invalid: the domain is not blocked.
    """
    if not roles.may_govern(actor):
        raise NotAllowed("Only administrators unblock servers.")
    try:
        kept = normalise_domain(domain)
    except Invalid:
        kept = domain
    row = db.session.get(BlockedDomain, kept)
    if row is None:
        raise Invalid({"domain": ["This domain is not blocked."]})
    db.session.delete(row)
    audit.record(actor, "federation.unblock_domain", detail=kept)
    db.session.commit()


def blocked_domains() -> list[BlockedDomain]:
    """Every blocked domain, in alphabetical order."""
    query = sa.select(BlockedDomain).order_by(BlockedDomain.domain)
    return list(db.session.scalars(query))


@dataclasses.dataclass(frozen=True)
class FederationNumbers:
    #: Remote actors following this site's writers (accepted).
    remote_followers: int
    #: Followers waiting for a writer's approval.
    pending_followers: int
    #: Servers this site has met (distinct domains of remote actors).
    known_servers: int
    #: Deliveries waiting to be made.
    waiting_deliveries: int


def numbers() -> FederationNumbers:
    """The administrators' overview of the fediverse side of the site."""

    def count(query: sa.Select[t.Any]) -> int:
        return int(db.session.scalar(query) or 0)

    by_state: dict[str, int] = {
        state: count
        for state, count in db.session.execute(
            sa.select(RemoteFollower.state, sa.func.count()).group_by(
                RemoteFollower.state
            )
        )
    }
    return FederationNumbers(
        remote_followers=by_state.get("accepted", 0),
        pending_followers=by_state.get("pending", 0),
        known_servers=count(sa.select(sa.func.count(sa.distinct(RemoteActor.domain)))),
        waiting_deliveries=count(
            sa.select(sa.func.count())
            .select_from(FederationDelivery)
            .where(
                FederationDelivery.done.is_(None),
                FederationDelivery.failed.is_(False),
            )
        ),
    )

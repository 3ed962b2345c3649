"""The pages about followers from the fediverse: a writer's followers page
(approve, decline, remove, the approval setting) and the administrators'
blocked servers (``services/federation/follows.py``, ``blocks.py``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import AuditEntry
from flaskr.models import BlockedDomain
from flaskr.models import FederationDelivery
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import RemoteFollowing
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.federation import blocks
from flaskr.services.federation import delivery
from tests.conftest import csrf_token_from
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.fediverse import post_activity

WRITER = "http://localhost/ap/users/1"


@pytest.fixture
def fed_app(app_with):
    return app_with(**FEDERATION_TEST_CONFIG)


@pytest.fixture
def writer(fed_app):
    client = fed_app.test_client()
    token = csrf_token_from(client, "/auth/login")
    client.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": token},
    )
    return client


def follow(client, user, number=1):
    activity = {
        "id": f"{user.uri}#follows/{number}",
        "type": "Follow",
        "actor": user.uri,
        "object": WRITER,
    }
    assert post_activity(client, user, "/ap/inbox", activity).status_code == 202


def states(app):
    with app.app_context():
        return sorted(
            tuple(row)
            for row in db.session.execute(
                sa.select(RemoteActor.username, RemoteFollower.state).join(
                    RemoteActor, RemoteActor.id == RemoteFollower.actor_id
                )
            )
        )


def sent(app):
    with app.app_context():
        return [
            (row.activity["type"], row.activity["object"]["actor"].rsplit("/", 1)[-1])
            for row in db.session.scalars(
                sa.select(FederationDelivery).order_by(FederationDelivery.id)
            )
        ]


def actor_id(app, name):
    with app.app_context():
        return db.session.scalars(
            sa.select(RemoteActor.id).where(RemoteActor.username == name)
        ).one()


def make_admin(app, user_id=1):
    with app.app_context():
        db.session.get(User, user_id).role = "admin"
        db.session.commit()


# The writer's followers page.


def test_the_followers_page_lists_and_removes(fed_app, writer, remote_server):
    ann = remote_server.add_user("ann", name="\u0622\u0646 \u0645\u062b\u0627\u0644")
    follow(writer, ann)
    page = writer.get("/fediverse/followers")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "@test@localhost" in text
    assert ann.uri.rsplit("/", 2)[0] + "/@ann" in text  # its profile, linked
    assert "@ann@127.0.0.1:" in text
    assert "\u0622\u0646 \u0645\u062b\u0627\u0644" in text
    token = csrf_token_from(writer, "/fediverse/followers")
    target = f"/fediverse/followers/{actor_id(fed_app, 'ann')}/remove"
    assert writer.post(target).status_code == 400  # no CSRF token
    assert states(fed_app) == [("ann", "accepted")]
    response = writer.post(target, data={"csrf_token": token})
    assert response.status_code == 302
    assert states(fed_app) == []
    assert sent(fed_app) == [("Accept", "ann"), ("Reject", "ann")]


def test_approval_on_the_followers_page(fed_app, writer, remote_server):
    token = csrf_token_from(writer, "/fediverse/followers")
    response = writer.post(
        "/fediverse/followers/approval",
        data={"approval-csrf_token": token, "approval-approve": "y"},
    )
    assert response.status_code == 302
    ann = remote_server.add_user("ann")
    bob = remote_server.add_user("bob")
    cat = remote_server.add_user("cat")
    for user in (ann, bob, cat):
        follow(writer, user)
    assert states(fed_app) == [
        ("ann", "pending"),
        ("bob", "pending"),
        ("cat", "pending"),
    ]
    text = writer.get("/fediverse/followers").get_data(as_text=True)
    assert "Waiting for your approval (3)" in text
    base = "/fediverse/followers/{}/{}"
    writer.post(
        base.format(actor_id(fed_app, "ann"), "approve"), data={"csrf_token": token}
    )
    writer.post(
        base.format(actor_id(fed_app, "bob"), "decline"), data={"csrf_token": token}
    )
    assert states(fed_app) == [("ann", "accepted"), ("cat", "pending")]
    # Turning approval off accepts those still waiting.
    writer.post("/fediverse/followers/approval", data={"approval-csrf_token": token})
    assert states(fed_app) == [("ann", "accepted"), ("cat", "accepted")]
    assert sent(fed_app) == [("Accept", "ann"), ("Reject", "bob"), ("Accept", "cat")]
    # A follower no longer waiting cannot be declined.
    response = writer.post(
        base.format(actor_id(fed_app, "cat"), "decline"),
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "no longer waiting" in response.get_data(as_text=True)
    assert states(fed_app) == [("ann", "accepted"), ("cat", "accepted")]


def test_another_writers_follower_cannot_be_removed(fed_app, writer, remote_server):
    ann = remote_server.add_user("ann")
    other = {
        "id": f"{ann.uri}#follows/9",
        "type": "Follow",
        "actor": ann.uri,
        "object": "http://localhost/ap/users/2",
    }
    post_activity(writer, ann, "/ap/inbox", other)
    token = csrf_token_from(writer, "/fediverse/followers")
    writer.post(
        f"/fediverse/followers/{actor_id(fed_app, 'ann')}/remove",
        data={"csrf_token": token},
    )
    with fed_app.app_context():
        assert db.session.scalar(sa.select(RemoteFollower.user_id)) == 2


def test_the_followers_page_is_for_writers(fed_app, make_app, writer):
    assert fed_app.test_client().get("/fediverse/followers").status_code == 302
    off = make_app(**FEDERATION_TEST_CONFIG, FEDERATION=False)
    client = off.test_client()
    token = csrf_token_from(client, "/auth/login")
    client.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": token},
    )
    assert client.get("/fediverse/followers").status_code == 404
    with fed_app.app_context():
        db.session.get(User, 1).role = "reader"
        db.session.commit()
    assert writer.get("/fediverse/followers").status_code == 403


def test_the_followers_page_is_paged(fed_app, writer):
    with fed_app.app_context():
        for number in range(60):
            actor = RemoteActor(
                uri=f"https://s{number}.example/u",
                domain=f"s{number}.example",
                inbox=f"https://s{number}.example/inbox",
                username=f"u{number}",
                key_id=f"https://s{number}.example/u#k",
                public_key_pem="-",
            )
            db.session.add(actor)
            db.session.flush()
            db.session.add(RemoteFollower(user_id=1, actor_id=actor.id, follow_id="f"))
        db.session.commit()
    first = writer.get("/fediverse/followers").get_data(as_text=True)
    assert "60 followers, page 1 of 2" in first
    assert 'rel="next"' in first
    second = writer.get("/fediverse/followers?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second
    assert second.count('rel="nofollow noopener"') == 10


# Blocked servers.


@pytest.mark.parametrize(
    "text, kept",
    [
        ("Social.Example", "social.example"),
        ("https://social.example/@ann", "social.example"),
        ("social.example.", "social.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("social.example:8443", "social.example:8443"),
        ("ann@social.example", "social.example"),
    ],
)
def test_domains_are_normalised(text, kept):
    assert blocks.normalise_domain(text) == kept


@pytest.mark.parametrize(
    "text",
    ["", "example", "-bad.example", "a b.example", "x.example:port", "a..b", "😀"],
)
def test_malformed_domains_are_refused(text):
    with pytest.raises(Invalid):
        blocks.normalise_domain(text)


def test_a_block_drops_followers_follows_and_deliveries(fed_app, remote_server):
    client = fed_app.test_client()
    ann = remote_server.add_user("ann")
    follow(client, ann)
    make_admin(fed_app)
    with fed_app.app_context():
        ann_id = actor_id(fed_app, "ann")
        db.session.add(RemoteFollowing(user_id=2, actor_id=ann_id, follow_id="x"))
        delivery.enqueue(
            {"id": "http://localhost/a/2"}, ["https://fine.example/inbox"], "1"
        )
        db.session.commit()
        admin = db.session.get(User, 1)
        with pytest.raises(Invalid):
            blocks.block_domain(admin, "localhost.example.")  # fine, then again
            blocks.block_domain(admin, "localhost.example")
        blocks.block_domain(admin, "127.0.0.1", "spam " * 3)
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(RemoteFollower))
            == 0
        )
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(RemoteFollowing))
            == 0
        )
        failed = dict(
            tuple(row)
            for row in db.session.execute(
                sa.select(FederationDelivery.inbox, FederationDelivery.failed)
            )
        )
        assert failed == {ann.inbox: True, "https://fine.example/inbox": False}
        entry = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "federation.block_domain")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.detail.startswith(
            "127.0.0.1: spam spam spam; 1 followers, 1 follows"
        )
        assert blocks.numbers().remote_followers == 0


def test_own_domain_and_non_admins_are_refused(fed_app):
    make_admin(fed_app)
    with fed_app.app_context():
        admin, other = db.session.get(User, 1), db.session.get(User, 2)
        with pytest.raises(NotAllowed):
            blocks.block_domain(other, "bad.example")
        fed_app.config["SITE_URL"] = "https://blog.flaskr.example"
        for own in (
            "blog.flaskr.example",
            "flaskr.example",
            "https://blog.flaskr.example/x",
        ):
            with pytest.raises(Invalid):
                blocks.block_domain(admin, own)
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(BlockedDomain))
            == 0
        )


def test_the_admin_page_blocks_and_unblocks(fed_app, writer):
    make_admin(fed_app)
    page = writer.get("/admin/federation")
    assert page.status_code == 200
    assert "No server is blocked" in page.get_data(as_text=True)
    token = csrf_token_from(writer, "/admin/federation")
    refused = writer.post(
        "/admin/federation/block",
        data={"block-csrf_token": token, "block-domain": "not a domain"},
    )
    assert refused.status_code == 422
    assert "Give a domain name" in refused.get_data(as_text=True)
    response = writer.post(
        "/admin/federation/block",
        data={
            "block-csrf_token": token,
            "block-domain": "https://Bad.Example/about",
            "block-reason": "spam",
        },
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "bad.example is blocked" in text
    assert "spam" in text
    response = writer.post(
        "/admin/federation/unblock",
        data={"unblock-csrf_token": token, "unblock-domain": "bad.example"},
        follow_redirects=True,
    )
    assert "No server is blocked" in response.get_data(as_text=True)
    with fed_app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.action.like("federation.%"))
        ).all()
        assert sorted(actions) == [
            "federation.block_domain",
            "federation.unblock_domain",
        ]


def test_the_admin_page_is_for_administrators(fed_app, writer):
    assert writer.get("/admin/federation").status_code == 403
    token = csrf_token_from(writer, "/fediverse/followers")
    response = writer.post(
        "/admin/federation/block",
        data={"block-csrf_token": token, "block-domain": "bad.example"},
    )
    assert response.status_code == 403
    with fed_app.app_context():
        assert blocks.blocked_domains() == []

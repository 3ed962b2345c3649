"""The inboxes: signatures checked, requests refused with JSON answers,
per-server rate limits, and Follow, its Undo and the writer's Accept or
Reject (``services/federation/inbox.py``, ``follows.py``)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import FederationDelivery
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import User
from flaskr.services.federation import blocks
from flaskr.services.federation import follows
from flaskr.services.federation import signatures
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.fediverse import ACTIVITY_JSON
from tests.fediverse import post_activity
from tests.fediverse import RemoteServer
from tests.fediverse import signed_headers

WRITER_INBOX = "/ap/users/1/inbox"
WRITER = "http://localhost/ap/users/1"


@pytest.fixture
def fed_app(app_with):
    return app_with(**FEDERATION_TEST_CONFIG)


@pytest.fixture
def fed_client(fed_app):
    return fed_app.test_client()


@pytest.fixture
def ann(remote_server):
    return remote_server.add_user("ann")


def follow_of(user, follow_id="1", target=WRITER):
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{user.uri}#follows/{follow_id}",
        "type": "Follow",
        "actor": user.uri,
        "object": target,
    }


def followers(app):
    with app.app_context():
        return [
            (row.user_id, row.state, row.follow_id)
            for row in db.session.scalars(sa.select(RemoteFollower))
        ]


def deliveries(app):
    with app.app_context():
        return [
            (row.inbox, row.signer, row.activity)
            for row in db.session.scalars(
                sa.select(FederationDelivery).order_by(FederationDelivery.id)
            )
        ]


def remote_actor_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(RemoteActor))


def change_user(app, user_id, **columns):
    with app.app_context():
        user = db.session.get(User, user_id)
        for name, value in columns.items():
            setattr(user, name, value)
        db.session.commit()


# Follow, Accept, Undo.


def test_a_follow_is_kept_and_accepted(fed_app, fed_client, ann):
    follow = follow_of(ann)
    response = post_activity(fed_client, ann, WRITER_INBOX, follow)
    assert response.status_code == 202
    assert followers(fed_app) == [(1, "accepted", follow["id"])]
    [(inbox, signer, accept)] = deliveries(fed_app)
    assert inbox == ann.inbox
    assert signer == "1"
    assert accept["type"] == "Accept"
    assert accept["actor"] == WRITER
    assert accept["id"].startswith(WRITER + "#accepts/follows/")
    assert accept["object"]["id"] == follow["id"]
    assert accept["object"]["actor"] == ann.uri
    assert accept["object"]["object"] == WRITER


def test_a_follow_through_the_shared_inbox_is_kept(fed_app, fed_client, ann):
    assert (
        post_activity(fed_client, ann, "/ap/inbox", follow_of(ann)).status_code == 202
    )
    assert [state for _, state, _ in followers(fed_app)] == ["accepted"]


def test_a_replayed_follow_changes_nothing(fed_app, fed_client, ann):
    follow = follow_of(ann)
    for _ in range(3):
        assert post_activity(fed_client, ann, WRITER_INBOX, follow).status_code == 202
    assert len(followers(fed_app)) == 1
    assert len(deliveries(fed_app)) == 1


def test_a_new_follow_from_a_follower_is_accepted_again(fed_app, fed_client, ann):
    post_activity(fed_client, ann, WRITER_INBOX, follow_of(ann, "1"))
    again = follow_of(ann, "2")
    post_activity(fed_client, ann, WRITER_INBOX, again)
    assert followers(fed_app) == [(1, "accepted", again["id"])]
    accepts = [activity for _, _, activity in deliveries(fed_app)]
    assert [a["object"]["id"] for a in accepts] == [
        follow_of(ann, "1")["id"],
        again["id"],
    ]
    assert accepts[0]["id"] != accepts[1]["id"]


@pytest.mark.parametrize(
    "case", ["reader", "suspended", "unknown", "not ours", "a post", "huge id"]
)
def test_a_follow_of_no_writer_is_dropped(fed_app, fed_client, ann, case):
    target = {
        "unknown": "http://localhost/ap/users/999",
        "not ours": "http://elsewhere.example/ap/users/1",
        "a post": "http://localhost/ap/posts/1",
        "huge id": "http://localhost/ap/users/" + "9" * 30,
    }.get(case, WRITER)
    if case == "reader":
        change_user(fed_app, 1, role="reader")
    if case == "suspended":
        change_user(fed_app, 1, state="suspended")
    response = post_activity(
        fed_client, ann, "/ap/inbox", follow_of(ann, target=target)
    )
    assert response.status_code == 202
    assert followers(fed_app) == []
    assert deliveries(fed_app) == []


def test_a_readers_inbox_is_not_there(fed_app, fed_client, ann):
    change_user(fed_app, 2, role="reader")
    other = follow_of(ann, target="http://localhost/ap/users/2")
    assert post_activity(fed_client, ann, "/ap/users/2/inbox", other).status_code == 404
    assert (
        post_activity(fed_client, ann, "/ap/users/999/inbox", other).status_code == 404
    )
    assert followers(fed_app) == []


def undo_of(user, follow):
    return {
        "id": f"{user.uri}#undo/1",
        "type": "Undo",
        "actor": user.uri,
        "object": follow,
    }


@pytest.mark.parametrize("named_by", ["id", "object"])
def test_undo_ends_the_follow(fed_app, fed_client, ann, named_by):
    follow = follow_of(ann)
    post_activity(fed_client, ann, WRITER_INBOX, follow)
    named = follow if named_by == "id" else {**follow, "id": "http://x.example/other"}
    response = post_activity(fed_client, ann, WRITER_INBOX, undo_of(ann, named))
    assert response.status_code == 202
    assert followers(fed_app) == []


def test_undo_of_someone_elses_follow_changes_nothing(
    fed_app, fed_client, ann, remote_server
):
    bob = remote_server.add_user("bob")
    follow = follow_of(ann)
    post_activity(fed_client, ann, WRITER_INBOX, follow)
    post_activity(fed_client, bob, WRITER_INBOX, undo_of(bob, follow))
    assert len(followers(fed_app)) == 1


def test_approval_keeps_followers_waiting(fed_app, fed_client, ann):
    change_user(fed_app, 1, approve_fediverse_followers=True)
    follow = follow_of(ann)
    post_activity(fed_client, ann, WRITER_INBOX, follow)
    post_activity(fed_client, ann, WRITER_INBOX, follow)
    assert followers(fed_app) == [(1, "pending", follow["id"])]
    assert deliveries(fed_app) == []
    with fed_app.app_context():
        writer = db.session.get(User, 1)
        actor_id = db.session.scalars(sa.select(RemoteActor.id)).one()
        page = follows.followers_of(writer, "pending")
        assert [row.actor.uri for row in page.rows] == [ann.uri]
        follows.approve_follower(writer, actor_id)
    assert followers(fed_app) == [(1, "accepted", follow["id"])]
    [(inbox, signer, accept)] = deliveries(fed_app)
    assert (inbox, signer, accept["type"]) == (ann.inbox, "1", "Accept")
    assert accept["object"]["id"] == follow["id"]


def test_a_declined_follower_is_rejected(fed_app, fed_client, ann):
    change_user(fed_app, 1, approve_fediverse_followers=True)
    follow = follow_of(ann)
    post_activity(fed_client, ann, WRITER_INBOX, follow)
    with fed_app.app_context():
        writer = db.session.get(User, 1)
        actor_id = db.session.scalars(sa.select(RemoteActor.id)).one()
        follows.decline_follower(writer, actor_id)
        with pytest.raises(follows.Invalid):
            follows.decline_follower(writer, actor_id)
    assert followers(fed_app) == []
    [(inbox, signer, reject)] = deliveries(fed_app)
    assert (inbox, signer, reject["type"]) == (ann.inbox, "1", "Reject")
    assert reject["object"]["id"] == follow["id"]


def test_a_removed_follower_is_rejected(fed_app, fed_client, ann):
    follow = follow_of(ann)
    post_activity(fed_client, ann, WRITER_INBOX, follow)
    with fed_app.app_context():
        writer = db.session.get(User, 1)
        actor_id = db.session.scalars(sa.select(RemoteActor.id)).one()
        with pytest.raises(follows.Invalid):
            follows.approve_follower(writer, actor_id)  # not waiting
        follows.remove_follower(writer, actor_id)
    assert followers(fed_app) == []
    kinds = [
        (inbox, a["type"], a["object"]["id"]) for inbox, _, a in deliveries(fed_app)
    ]
    assert kinds == [
        (ann.inbox, "Accept", follow["id"]),
        (ann.inbox, "Reject", follow["id"]),
    ]


def test_turning_approval_off_accepts_those_waiting(fed_app, fed_client, ann):
    change_user(fed_app, 1, approve_fediverse_followers=True)
    post_activity(fed_client, ann, WRITER_INBOX, follow_of(ann))
    with fed_app.app_context():
        writer = db.session.get(User, 1)
        assert follows.set_approval(writer, True) == 0
        assert followers(fed_app)[0][1] == "pending"
        assert follows.set_approval(writer, False) == 1
        assert not db.session.get(User, 1).approve_fediverse_followers
    assert followers(fed_app)[0][1] == "accepted"
    assert [a["type"] for _, _, a in deliveries(fed_app)] == ["Accept"]


# Signatures.


def sign_and_post(client, user, path, activity, change):
    """POST ``activity`` from ``user``, its request spoilt by ``change``."""
    body = json.dumps(activity).encode()
    when = None
    if change == "old date":
        when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    headers = signed_headers(user, "POST", "http://localhost" + path, body, when)
    if change == "changed body":
        body = json.dumps(
            {**activity, "object": "http://localhost/ap/users/2"}
        ).encode()
    elif change == "missing digest":
        headers = signed_headers(user, "GET", "http://localhost" + path, None)
    elif change == "other digest only":
        headers = dict(headers)
        headers["Digest"] = "SHA-512=" + signatures.digest_of(body).split("=", 1)[1]
    elif change == "unsigned":
        del headers["Signature"]
    elif change == "other path":
        headers = signed_headers(user, "POST", "http://localhost/ap/inbox", body)
    headers["Content-Type"] = ACTIVITY_JSON
    return client.post(path, data=body, headers=headers)


@pytest.mark.parametrize(
    "change",
    [
        "old date",
        "changed body",
        "missing digest",
        "other digest only",
        "unsigned",
        "other path",
    ],
)
def test_a_request_that_does_not_check_is_refused(
    fed_app, fed_client, ann, change, security_events
):
    response = sign_and_post(fed_client, ann, WRITER_INBOX, follow_of(ann), change)
    assert response.status_code == 401
    assert response.is_json and response.json["errors"]["body"]
    assert followers(fed_app) == []
    assert deliveries(fed_app) == []
    refused = [e for e in security_events if e["event"] == "inbox_refused"]
    assert refused and refused[0]["status"] == 401


def test_a_wrong_key_is_refused_and_nothing_kept(fed_app, fed_client, remote_server):
    ann = remote_server.add_user("ann")
    impostor = remote_server.add_user("eve")
    forged = type(ann)(ann.name, ann.uri, impostor.private_key)
    response = post_activity(fed_client, forged, WRITER_INBOX, follow_of(ann))
    assert response.status_code == 401
    assert remote_actor_count(fed_app) == 0
    assert followers(fed_app) == []


def test_a_key_whose_actor_cannot_be_fetched_is_refused(
    fed_app, fed_client, remote_server
):
    ghost = remote_server.add_user("ghost")
    del remote_server.documents["/users/ghost"]
    response = post_activity(fed_client, ghost, WRITER_INBOX, follow_of(ghost))
    assert response.status_code == 401
    assert remote_actor_count(fed_app) == 0


def test_the_signer_must_be_the_activitys_actor(fed_app, fed_client, remote_server):
    ann = remote_server.add_user("ann")
    bob = remote_server.add_user("bob")
    response = post_activity(fed_client, bob, WRITER_INBOX, follow_of(ann))
    assert response.status_code == 400
    assert followers(fed_app) == []


def test_a_rotated_key_is_fetched_again_once_a_minute(
    fed_app, fed_client, remote_server
):
    ann = remote_server.add_user("ann")
    post_activity(fed_client, ann, WRITER_INBOX, follow_of(ann, "1"))
    fetches = len([r for r in remote_server.received if r.method == "GET"])
    rotated = remote_server.add_user("ann")  # the same actor with a new key
    response = post_activity(fed_client, rotated, WRITER_INBOX, follow_of(ann, "2"))
    assert response.status_code == 401  # fetched less than a minute ago
    assert len([r for r in remote_server.received if r.method == "GET"]) == fetches
    with fed_app.app_context():
        db.session.execute(
            sa.update(RemoteActor).values(
                fetched=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
            )
        )
        db.session.commit()
    response = post_activity(fed_client, rotated, WRITER_INBOX, follow_of(ann, "2"))
    assert response.status_code == 202
    assert len([r for r in remote_server.received if r.method == "GET"]) == fetches + 1
    assert followers(fed_app)[0][2] == follow_of(ann, "2")["id"]


# What the inbox refuses before any signature.


def test_get_on_an_inbox_is_405(fed_client):
    for path in (WRITER_INBOX, "/ap/inbox"):
        response = fed_client.get(path)
        assert response.status_code == 405
        assert response.is_json


def test_a_body_too_large_is_413(app_with, ann):
    app = app_with(**FEDERATION_TEST_CONFIG, FEDERATION_MAX_BYTES=1000)
    activity = {**follow_of(ann), "padding": "x" * 2000}
    response = post_activity(app.test_client(), ann, WRITER_INBOX, activity)
    assert response.status_code == 413
    assert response.is_json
    assert followers(app) == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", None]
)
def test_a_body_not_json_typed_is_415(fed_client, ann, content_type):
    body = json.dumps(follow_of(ann)).encode()
    headers = signed_headers(ann, "POST", "http://localhost/ap/inbox", body)
    if content_type:
        headers["Content-Type"] = content_type
    response = fed_client.post("/ap/inbox", data=body, headers=headers)
    assert response.status_code == 415
    assert response.is_json


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"Follow"',
        b'{"actor": "x"}',
        b'{"type": "Follow"}',
        b'{"type": ["Follow"], "actor": "x"}',
        b"[" * 100_000,
    ],
)
def test_a_body_that_is_no_activity_is_400(fed_client, ann, body):
    headers = signed_headers(ann, "POST", "http://localhost/ap/inbox", body)
    headers["Content-Type"] = 'application/ld+json; profile="x"'
    response = fed_client.post("/ap/inbox", data=body, headers=headers)
    assert response.status_code == 400
    assert response.is_json


@pytest.mark.parametrize(
    "follow",
    [
        {"type": "Follow", "object": WRITER},
        {"type": "Follow", "id": ["a"], "object": WRITER},
        {"type": "Follow", "id": "http://x.example/f", "object": [WRITER]},
        {"type": "Undo", "id": "http://x.example/u", "object": {"type": "Follow"}},
    ],
)
def test_an_unexpected_shape_is_400(fed_app, fed_client, ann, follow):
    response = post_activity(
        fed_client, ann, WRITER_INBOX, {**follow, "actor": ann.uri}
    )
    assert response.status_code == 400
    assert response.is_json
    assert followers(fed_app) == []


def test_federation_off_has_no_inboxes(app_with, ann):
    app = app_with(**{**FEDERATION_TEST_CONFIG, "FEDERATION": False})
    for path in (WRITER_INBOX, "/ap/inbox"):
        response = post_activity(app.test_client(), ann, path, follow_of(ann))
        assert response.status_code == 404


def test_inbox_posts_are_limited_per_server(app_with, remote_server, security_events):
    app = app_with(
        **FEDERATION_TEST_CONFIG,
        RATELIMIT_ENABLED=True,
        FEDERATION_INBOX_LIMITS="2 per minute",
    )
    client = app.test_client()
    ann = remote_server.add_user("ann")
    bob = remote_server.add_user("bob")  # the same server: one count
    assert (
        post_activity(client, ann, WRITER_INBOX, follow_of(ann, "1")).status_code == 202
    )
    assert (
        post_activity(client, bob, "/ap/inbox", follow_of(bob, "1")).status_code == 202
    )
    limited = post_activity(client, ann, WRITER_INBOX, follow_of(ann, "2"))
    assert limited.status_code == 429
    assert limited.is_json
    with RemoteServer() as elsewhere:
        cat = elsewhere.add_user("cat")
        response = post_activity(client, cat, WRITER_INBOX, follow_of(cat))
        assert response.status_code == 202
    refused = [e for e in security_events if e["event"] == "inbox_refused"]
    assert refused[-1]["status"] == 429
    assert refused[-1]["domain"] == remote_server.base.removeprefix("http://")


# Blocked servers.


def block(app, domain, reason="spam"):
    with app.app_context():
        admin = db.session.get(User, 1)
        admin.role = "admin"
        db.session.commit()
        return blocks.block_domain(admin, domain, reason)


def test_a_blocked_server_is_refused_and_its_followers_dropped(
    fed_app, fed_client, ann, remote_server
):
    post_activity(fed_client, ann, WRITER_INBOX, follow_of(ann, "1"))
    with fed_app.app_context():
        waiting = db.session.scalars(sa.select(FederationDelivery)).one()
        assert not waiting.failed
    assert block(fed_app, "127.0.0.1") == "127.0.0.1"
    assert followers(fed_app) == []
    with fed_app.app_context():
        waiting = db.session.scalars(sa.select(FederationDelivery)).one()
        assert waiting.failed and waiting.last_error == blocks.BLOCKED_ERROR
    response = post_activity(fed_client, ann, WRITER_INBOX, follow_of(ann, "2"))
    assert response.status_code == 403
    assert response.is_json
    assert followers(fed_app) == []
    # A new actor of the blocked server is refused before it is fetched.
    fetches = len(remote_server.received)
    bob = remote_server.add_user("bob")
    response = post_activity(fed_client, bob, WRITER_INBOX, follow_of(bob))
    assert response.status_code == 403
    assert len(remote_server.received) == fetches

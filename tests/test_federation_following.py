"""This site's users following remote accounts, reading their posts and
replying (``services/federation/following.py``, ``blueprints/fediverse``)."""

import json

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import BlockedDomain
from flaskr.models import FederationDelivery
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollowing
from flaskr.models import RemotePost
from flaskr.models import RemoteReply
from flaskr.models import User
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import PENDING
from flaskr.services.base.errors import Invalid
from flaskr.services.federation import following
from flaskr.services.federation import ids
from flaskr.services.federation import remote_posts
from flaskr.services.federation import signatures
from tests.conftest import csrf_token_from
from tests.conftest import FEDERATION_TEST_CONFIG

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def fed_app(app_with):
    return app_with(**FEDERATION_TEST_CONFIG)


def webfinger(server, name, **link):
    """Serve a WebFinger answer naming ``name``'s actor (``link`` changes
    its ``self`` link)."""
    user = server.users.get(name)
    self_link = {
        "rel": "self",
        "type": "application/activity+json",
        "href": user.uri if user else f"{server.base}/users/{name}",
        **link,
    }
    server.put(
        "/.well-known/webfinger",
        {
            "subject": f"acct:{name}@{server.base.removeprefix('http://')}",
            "links": [{"rel": "http://webfinger.net/rel/profile-page"}, self_link],
        },
    )


def handle_of(server, name):
    return f"@{name}@{server.base.removeprefix('http://')}"


def local_user(name="test"):
    return db.session.scalars(sa.select(User).where(User.username == name)).one()


def deliveries():
    return list(db.session.scalars(sa.select(FederationDelivery)))


def followed(fed_app, remote_server, name="ann", *, accept=True):
    """``test`` follows remote ``name`` (accepted unless told)."""
    remote = remote_server.add_user(name)
    webfinger(remote_server, name)
    with fed_app.app_context():
        actor = following.follow(local_user(), handle_of(remote_server, name))
        if accept:
            accept_follow(actor)
    return remote


def accept_follow(actor):
    """``actor`` accepts ``test``'s follow, named by its id."""
    row = db.session.get(RemoteFollowing, (local_user().id, actor.id))
    following.receive_accept(
        actor, {"type": "Accept", "actor": actor.uri, "object": row.follow_id}
    )


def create(remote, obj_id, kind="Create", **fields):
    obj = {
        "id": obj_id,
        "type": "Article",
        "attributedTo": remote.uri,
        "name": "A <b>title</b>",
        "content": '<p>Hello <script>alert(1)</script><a href="/x">rel</a>'
        '<a href="https://e.example/y" onclick="x()">abs</a></p>',
        "url": obj_id + "/page",
        "published": "2026-12-01T10:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{remote.uri}/followers"],
        **fields,
    }
    return {"id": obj_id + "#" + kind, "type": kind, "actor": remote.uri, "object": obj}


def actor_row(remote):
    return db.session.scalars(
        sa.select(RemoteActor).where(RemoteActor.uri == remote.uri)
    ).one()


# -- Following ----------------------------------------------------------------


@pytest.mark.parametrize("form", ["@{h}", "{h}", "url"])
def test_follow_by_handle_queues_a_signed_follow(fed_app, remote_server, form):
    remote = remote_server.add_user("ann")
    webfinger(remote_server, "ann")
    host = remote_server.base.removeprefix("http://")
    handle = remote.uri if form == "url" else form.format(h=f"ann@{host}")
    with fed_app.app_context():
        user = local_user()
        actor = following.follow(user, handle)
        row = db.session.get(RemoteFollowing, (user.id, actor.id))
        assert row.state == PENDING
        assert row.follow_id.startswith(f"http://localhost/ap/users/{user.id}#follows/")
        [queued] = deliveries()
        assert queued.inbox == remote.inbox
        assert queued.signer == ids.owner_of_user(user.id)
        assert queued.activity["type"] == "Follow"
        assert queued.activity["id"] == row.follow_id
        assert queued.activity["actor"] == ids.actor(user.id)
        assert queued.activity["object"] == remote.uri
    lookups = [r.path for r in remote_server.received if "webfinger" in r.path]
    if form == "url":
        assert lookups == []
    else:
        assert lookups == [
            f"/.well-known/webfinger?resource=acct:ann@{host}",
        ]


def test_a_follow_id_is_new_each_time(fed_app, remote_server):
    followed(fed_app, remote_server, accept=False)
    with fed_app.app_context():
        first = db.session.scalars(sa.select(RemoteFollowing)).one().follow_id
        actor_id = db.session.scalars(sa.select(RemoteFollowing)).one().actor_id
        assert following.unfollow(local_user(), actor_id)
        following.follow(local_user(), handle_of(remote_server, "ann"))
        second = db.session.scalars(sa.select(RemoteFollowing)).one().follow_id
        assert first != second


def refusal(fed_app, handle, name="test"):
    with fed_app.app_context(), pytest.raises(Invalid) as caught:
        following.follow(local_user(name), handle)
    assert list(caught.value.problems) == ["handle"]
    with fed_app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count(RemoteFollowing.actor_id))
        ) in (
            0,
            1,
        )
    return str(caught.value)


@pytest.mark.parametrize("handle", ["", "ann", "@ann@", "a b@c", "@@x@y", "ftp://x/y"])
def test_malformed_handles_are_refused(fed_app, handle):
    message = refusal(fed_app, handle)
    assert "Type" in message or "not a fediverse" in message


def test_an_unknown_account_is_refused(fed_app, remote_server):
    message = refusal(fed_app, handle_of(remote_server, "nobody"))
    assert "No fediverse account" in message


def test_a_lookup_without_an_actor_link_is_refused(fed_app, remote_server):
    remote_server.add_user("ann")
    webfinger(remote_server, "ann", type="text/html")
    assert "not a fediverse account" in refusal(
        fed_app, handle_of(remote_server, "ann")
    )


def test_something_not_an_actor_is_refused(fed_app, remote_server):
    url = remote_server.put("/notes/1", {"id": "x", "type": "Note"})
    assert "not a fediverse account" in refusal(fed_app, url)


def test_a_blocked_domain_is_refused(fed_app, remote_server):
    remote_server.add_user("ann")
    webfinger(remote_server, "ann")
    with fed_app.app_context():
        db.session.add(BlockedDomain(domain="127.0.0.1"))
        db.session.commit()
    message = refusal(fed_app, handle_of(remote_server, "ann"))
    assert "does not federate" in message
    assert not [r for r in remote_server.received if "webfinger" in r.path]


def test_our_own_site_is_refused(fed_app):
    assert "on this site" in refusal(fed_app, "@test@localhost")
    assert "on this site" in refusal(fed_app, "http://localhost/ap/users/1")


def test_following_twice_is_refused(fed_app, remote_server):
    followed(fed_app, remote_server, accept=False)
    assert "already follow" in refusal(fed_app, handle_of(remote_server, "ann"))
    with fed_app.app_context():
        assert len(deliveries()) == 1


def test_readers_cannot_follow(fed_app, remote_server):
    with fed_app.app_context():
        local_user("other").role = "reader"
        db.session.commit()
    assert "Only writers" in refusal(fed_app, "@ann@example.social", name="other")


def test_nothing_follows_when_the_site_does_not_federate(app_with):
    app = app_with()
    with app.app_context(), pytest.raises(Invalid, match="does not take part"):
        following.follow(local_user(), "@ann@example.social")


def test_unfollow_queues_an_undo_and_removes_the_row(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    with fed_app.app_context():
        actor = actor_row(remote)
        follow_id = db.session.scalars(sa.select(RemoteFollowing)).one().follow_id
        assert following.unfollow(local_user(), actor.id)
        assert db.session.scalars(sa.select(RemoteFollowing)).first() is None
        undo = [d for d in deliveries() if d.activity["type"] == "Undo"]
        [queued] = undo
        assert queued.inbox == remote.inbox
        assert queued.activity["object"]["id"] == follow_id
        assert queued.activity["object"]["type"] == "Follow"
        assert not following.unfollow(local_user(), actor.id)


# -- Accept, Reject --------------------------------------------------------


def test_accept_by_id_or_embedded(fed_app, remote_server):
    followed(fed_app, remote_server, accept=True)
    with fed_app.app_context():
        assert db.session.scalars(sa.select(RemoteFollowing)).one().state == ACCEPTED
    remote = remote_server.add_user("bob")
    webfinger(remote_server, "bob")
    with fed_app.app_context():
        actor = following.follow(local_user(), handle_of(remote_server, "bob"))
        row = db.session.get(RemoteFollowing, (local_user().id, actor.id))
        embedded = {"id": row.follow_id, "type": "Follow", "object": remote.uri}
        following.receive_accept(actor, {"type": "Accept", "object": embedded})
        assert db.session.get(RemoteFollowing, (local_user().id, actor.id)).state == (
            ACCEPTED
        )


def test_an_accept_from_another_actor_changes_nothing(fed_app, remote_server):
    followed(fed_app, remote_server, accept=False)
    other = remote_server.add_user("eve")
    with fed_app.app_context():
        from flaskr.services.federation import remote_actors

        eve = remote_actors.fetch_actor(other.uri)
        row = db.session.scalars(sa.select(RemoteFollowing)).one()
        following.receive_accept(eve, {"type": "Accept", "object": row.follow_id})
        following.receive_reject(eve, {"type": "Reject", "object": row.follow_id})
        row = db.session.scalars(sa.select(RemoteFollowing)).one()
        assert row.state == PENDING


def test_reject_removes_the_follow(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    with fed_app.app_context():
        row = db.session.scalars(sa.select(RemoteFollowing)).one()
        following.receive_reject(
            actor_row(remote), {"type": "Reject", "object": row.follow_id}
        )
        assert db.session.scalars(sa.select(RemoteFollowing)).first() is None


# -- Posts ---------------------------------------------------------------------


def test_a_post_is_kept_sanitised(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    with fed_app.app_context():
        following.receive_post(
            actor_row(remote), create(remote, f"{remote_server.base}/posts/1")
        )
        post = db.session.scalars(sa.select(RemotePost)).one()
        assert post.title == "A title"
        assert post.url == f"{remote_server.base}/posts/1/page"
        assert "script" not in post.content_html and "alert" not in post.content_html
        assert "onclick" not in post.content_html
        assert 'href="/x"' not in post.content_html
        assert 'href="https://e.example/y"' in post.content_html
        assert post.published.isoformat().startswith("2026-12-01T10:00")


@pytest.mark.parametrize(
    "change",
    [
        "not followed",
        "other host",
        "other author",
        "reply",
        "private",
        "Tag",
    ],
)
def test_other_posts_are_dropped(fed_app, remote_server, change):
    remote = followed(fed_app, remote_server)
    obj_id = f"{remote_server.base}/posts/1"
    fields = {
        "other host": {"id": "https://elsewhere.example/posts/1"},
        "other author": {"attributedTo": f"{remote_server.base}/users/eve"},
        "reply": {"inReplyTo": "https://elsewhere.example/notes/9"},
        "private": {"to": [f"{remote.uri}/followers"], "cc": []},
        "Tag": {"type": "Tag"},
    }.get(change, {})
    activity = create(remote, obj_id, **fields)
    activity["object"].update(fields)
    with fed_app.app_context():
        actor = actor_row(remote)
        if change == "not followed":
            following.unfollow(local_user(), actor.id)
        following.receive_post(actor, activity)
        assert db.session.scalars(sa.select(RemotePost)).first() is None


def test_a_post_that_overtakes_the_accept_shows_once_accepted(fed_app, remote_server):
    # The remote site sends its Accept and its new post side by side, and the
    # post arrives first: it is kept, and shown once the follow is on.
    remote = followed(fed_app, remote_server, accept=False)
    with fed_app.app_context():
        actor = actor_row(remote)
        following.receive_post(actor, create(remote, f"{remote_server.base}/posts/1"))
        assert db.session.scalars(sa.select(RemotePost)).one().title == "A title"
        user_id = local_user().id
        assert remote_posts.posts_for(user_id, per_page=10).posts == []
        accept_follow(actor)
        shown = remote_posts.posts_for(user_id, per_page=10).posts
        assert [post.title for post, _ in shown] == ["A title"]


def test_an_update_changes_the_kept_post(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    obj_id = f"{remote_server.base}/posts/1"
    with fed_app.app_context():
        actor = actor_row(remote)
        following.receive_post(actor, create(remote, obj_id))
        following.receive_post(
            actor,
            create(remote, obj_id, "Update", name="New", content="<p>Changed</p>"),
        )
        post = db.session.scalars(sa.select(RemotePost)).one()
        assert (post.title, post.content_html) == ("New", "<p>Changed</p>")


def test_another_actor_cannot_update_a_post(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    other = followed(fed_app, remote_server, "eve")
    obj_id = f"{remote_server.base}/posts/1"
    with fed_app.app_context():
        following.receive_post(actor_row(remote), create(remote, obj_id))
        following.receive_post(
            actor_row(other), create(other, obj_id, "Update", name="Taken over")
        )
        assert db.session.scalars(sa.select(RemotePost)).one().title == "A title"


def test_a_delete_removes_the_post(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    obj_id = f"{remote_server.base}/posts/1"
    with fed_app.app_context():
        actor = actor_row(remote)
        following.receive_post(actor, create(remote, obj_id))
        tombstone = {"type": "Tombstone", "id": obj_id}
        assert not following.receive_delete(actor, {"object": obj_id + "/other"})
        assert following.receive_delete(actor, {"object": tombstone})
        assert db.session.scalars(sa.select(RemotePost)).first() is None
        assert not following.receive_delete(actor, {"object": obj_id})


# -- Replies ------------------------------------------------------------------


def kept_post(fed_app, remote_server):
    remote = followed(fed_app, remote_server)
    with fed_app.app_context():
        following.receive_post(
            actor_row(remote), create(remote, f"{remote_server.base}/posts/1")
        )
        return remote, db.session.scalars(sa.select(RemotePost)).one().id


def test_a_reply_is_kept_and_queued_to_the_author(fed_app, remote_server):
    remote, post_id = kept_post(fed_app, remote_server)
    with fed_app.app_context():
        user = local_user()
        added = following.reply(user, post_id, "A *fine* point")
        assert added.body_html == "<p>A <em>fine</em> point</p>\n"
        [queued] = [d for d in deliveries() if d.activity["type"] == "Create"]
        assert queued.inbox == remote.inbox
        assert queued.signer == ids.owner_of_user(user.id)
        note = queued.activity["object"]
        assert note["id"] == f"http://localhost/ap/replies/{added.id}"
        assert note["inReplyTo"] == f"{remote_server.base}/posts/1"
        assert note["to"] == [remote.uri]
        assert PUBLIC in note["cc"]
        assert queued.activity["actor"] == ids.actor(user.id)


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_bad_replies_are_refused(fed_app, remote_server, body):
    _, post_id = kept_post(fed_app, remote_server)
    with fed_app.app_context(), pytest.raises(Invalid) as caught:
        following.reply(local_user(), post_id, body)
    assert list(caught.value.problems) == ["body"]
    with fed_app.app_context():
        assert db.session.scalars(sa.select(RemoteReply)).first() is None


def test_only_followers_of_the_author_reply(fed_app, remote_server):
    _, post_id = kept_post(fed_app, remote_server)
    with fed_app.app_context(), pytest.raises(Invalid, match="accounts you follow"):
        following.reply(local_user("other"), post_id, "Hello")


def test_the_reply_note_is_served(fed_app, remote_server):
    remote, post_id = kept_post(fed_app, remote_server)
    with fed_app.app_context():
        reply_id = following.reply(local_user(), post_id, "Hi").id
    client = fed_app.test_client()
    response = client.get(f"/ap/replies/{reply_id}")
    assert response.status_code == 200
    assert response.content_type == "application/activity+json"
    note = response.get_json(force=True)
    assert note["type"] == "Note"
    assert note["id"] == f"http://localhost/ap/replies/{reply_id}"
    assert note["inReplyTo"] == f"{remote_server.base}/posts/1"
    assert note["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert client.get(f"/ap/replies/{reply_id + 1}").status_code == 404
    with fed_app.app_context():
        local_user().state = "suspended"
        db.session.commit()
    assert client.get(f"/ap/replies/{reply_id}").status_code == 404
    fed_app.config["FEDERATION"] = False
    assert client.get(f"/ap/replies/{reply_id}").status_code == 404


# -- Pages ----------------------------------------------------------------------


def test_pages_need_a_login(fed_app):
    client = fed_app.test_client()
    for path in ("/fediverse/following", "/fediverse/posts/1"):
        assert client.get(path).status_code == 302


def login(client, name="test"):
    token = csrf_token_from(client, "/auth/login")
    client.post(
        "/auth/login", data={"username": name, "password": name, "csrf_token": token}
    )


def test_follow_and_reply_through_the_pages(fed_app, remote_server):
    remote = remote_server.add_user("ann")
    webfinger(remote_server, "ann")
    client = fed_app.test_client()
    login(client)
    page = client.get("/fediverse/following")
    assert page.status_code == 200
    assert "Follow someone on the fediverse" in page.get_data(as_text=True)
    token = csrf_token_from(client, "/fediverse/following")
    handle = handle_of(remote_server, "ann")
    assert (
        client.post("/fediverse/following", data={"handle": handle}).status_code == 400
    )
    sent = client.post(
        "/fediverse/following", data={"handle": handle, "csrf_token": token}
    )
    assert sent.status_code == 302
    text = client.get("/fediverse/following").get_data(as_text=True)
    assert handle in text and "Waiting for approval" in text
    again = client.post(
        "/fediverse/following", data={"handle": handle, "csrf_token": token}
    )
    assert again.status_code == 422
    assert "already follow" in again.get_data(as_text=True)
    with fed_app.app_context():
        actor = actor_row(remote)
        row = db.session.scalars(sa.select(RemoteFollowing)).one()
        following.receive_accept(actor, {"type": "Accept", "object": row.follow_id})
        following.receive_post(
            actor, create(remote, f"{remote_server.base}/posts/1", name="Long read")
        )
        post_id = db.session.scalars(sa.select(RemotePost)).one().id
    text = client.get("/fediverse/following").get_data(as_text=True)
    assert "Long read" in text and f"/fediverse/posts/{post_id}" in text
    post_page = client.get(f"/fediverse/posts/{post_id}").get_data(as_text=True)
    assert "View on 127.0.0.1" in post_page and "Hello" in post_page
    assert "<script>" not in post_page
    path = f"/fediverse/posts/{post_id}/reply"
    assert client.post(path, data={"body": "Hi"}).status_code == 400
    token = csrf_token_from(client, f"/fediverse/posts/{post_id}")
    assert client.post(path, data={"body": "", "csrf_token": token}).status_code == 422
    replied = client.post(path, data={"body": "Nice *read*", "csrf_token": token})
    assert replied.status_code == 302
    post_page = client.get(f"/fediverse/posts/{post_id}").get_data(as_text=True)
    assert "Nice <em>read</em>" in post_page
    # Unfollowing: CSRF needed, then the post is no longer shown to them.
    unfollow = f"/fediverse/following/{actor.id}/unfollow"
    assert client.post(unfollow).status_code == 400
    assert client.post(unfollow, data={"csrf_token": token}).status_code == 302
    assert client.get(f"/fediverse/posts/{post_id}").status_code == 404
    assert client.post(unfollow, data={"csrf_token": token}).status_code == 404


def test_a_post_is_hidden_from_those_who_do_not_follow(fed_app, remote_server):
    _, post_id = kept_post(fed_app, remote_server)
    client = fed_app.test_client()
    login(client, "other")
    assert client.get(f"/fediverse/posts/{post_id}").status_code == 404
    token = csrf_token_from(client, "/fediverse/following")
    reply = client.post(
        f"/fediverse/posts/{post_id}/reply", data={"body": "x", "csrf_token": token}
    )
    assert reply.status_code == 404


def test_the_follow_is_signed_by_the_user_when_delivered(fed_app, remote_server):
    # The queued Follow, POSTed as the sender would, checks with the user's key.
    followed(fed_app, remote_server, accept=False)
    from flaskr.services.federation import client as fed_client
    from flaskr.services.federation import keys

    with fed_app.app_context():
        [queued] = deliveries()
        fed_client.deliver(queued.inbox, queued.activity, queued.signer)
        public_pem = keys.public_pem(queued.signer)
        key_id = ids.key_id(queued.signer)
    [received] = remote_server.inbox_posts()
    parts = signatures.parse_signature(received.headers["signature"])
    assert parts.key_id == key_id
    import datetime as dt

    signatures.verify(
        "POST",
        received.path,
        received.headers,
        received.body,
        parts,
        public_pem,
        dt.datetime.now(dt.UTC),
        dt.timedelta(hours=1),
    )
    assert json.loads(received.body)["type"] == "Follow"

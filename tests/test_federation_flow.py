"""The whole way round on one site, through its doors: a remote account
follows a writer through the inbox, gets the Accept, receives each new post,
replies (the reply becomes a comment that the moderation rules hold or
show), likes and boosts, and takes it all back. The remote server is real
(``tests/fediverse.py``) and checks each delivery's signature."""

import json

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import RemoteFollower
from flaskr.models import User
from flaskr.models.governance import HELD
from flaskr.models.governance import VISIBLE
from flaskr.services.base import site
from flaskr.services.content import writing
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.federation import delivery
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.federation import signatures
from flaskr.services.social import hold_rules
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.fediverse import post_activity

CONTEXT = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
def fed(app_with):
    return app_with(**FEDERATION_TEST_CONFIG)


def send_everything(app):
    """Run the event line, then the delivery sender, as the timer does."""
    with app.app_context():
        deliver_due_events()
        delivery.deliver_due()


def delivered(remote_server, app):
    """The activities the remote inboxes received, each signature checked
    against the signing writer's key."""
    found = []
    with app.app_context():
        for post in remote_server.inbox_posts():
            parts = signatures.parse_signature(post.headers["signature"])
            owner = parts.key_id.removeprefix(ids.base() + "/ap/users/").split("#")[0]
            signatures.verify(
                "POST",
                post.path,
                post.headers,
                post.body,
                parts,
                keys.public_pem(owner),
                utcnow(),
                app.config["FEDERATION_SIGNATURE_WINDOW"],
            )
            found.append(post.json())
    return found


def writer_id(app):
    with app.app_context():
        return db.session.scalars(sa.select(User.id).filter_by(username="test")).one()


def follow(client, remote, user_id):
    activity = {
        "@context": CONTEXT,
        "id": f"{remote.uri}#follows/{user_id}",
        "type": "Follow",
        "actor": remote.uri,
        "object": f"http://localhost/ap/users/{user_id}",
    }
    return post_activity(client, remote, f"/ap/users/{user_id}/inbox", activity)


def reply_to(remote, article, number, text="Lovely post!"):
    note = {
        "id": f"{remote.uri}/statuses/{number}",
        "type": "Note",
        "attributedTo": remote.uri,
        "inReplyTo": article,
        "content": f"<p>{text}</p>",
        "url": f"{remote.uri}/statuses/{number}/page",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    return {
        "@context": CONTEXT,
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": remote.uri,
        "object": note,
    }


def test_a_remote_account_follows_reads_replies_and_reacts(fed, remote_server):
    client = fed.test_client()
    ann = remote_server.add_user("ann")
    writer = writer_id(fed)

    assert follow(client, ann, writer).status_code == 202
    send_everything(fed)
    (accept,) = delivered(remote_server, fed)
    assert accept["type"] == "Accept"
    assert accept["object"]["id"] == f"{ann.uri}#follows/{writer}"

    with fed.app_context():
        user = db.session.get(User, writer)
        post = writing.create_post(
            user, "Out today", "Some *text*.", tags=[], publish=True
        )
        post_id = post.id
    send_everything(fed)
    create = delivered(remote_server, fed)[-1]
    assert create["type"] == "Create"
    assert create["object"]["id"] == f"http://localhost/ap/posts/{post_id}"
    assert "<em>text</em>" in create["object"]["content"]
    # One delivery to the shared inbox, not one per follower.
    assert remote_server.inbox_posts()[-1].path == "/inbox"

    article = create["object"]["id"]
    answer = post_activity(client, ann, "/ap/inbox", reply_to(ann, article, 1))
    assert answer.status_code == 202
    page = client.get(f"/{post_id}", follow_redirects=True).get_data(as_text=True)
    assert "Lovely post!" in page and "@ann@" in page
    for kind in ("Like", "Announce"):
        activity = {
            "@context": CONTEXT,
            "id": f"{ann.uri}#{kind.lower()}s/1",
            "type": kind,
            "actor": ann.uri,
            "object": article,
        }
        assert post_activity(client, ann, "/ap/inbox", activity).status_code == 202
    with fed.app_context():
        post = db.session.get(Post, post_id)
        assert (post.comment_count, post.fediverse_likes, post.fediverse_shares) == (
            1,
            1,
            1,
        )

    # Taking it back: the reply deleted, the like undone, the follow undone.
    delete = {
        "@context": CONTEXT,
        "id": f"{ann.uri}/statuses/1#delete",
        "type": "Delete",
        "actor": ann.uri,
        "object": {"id": f"{ann.uri}/statuses/1", "type": "Tombstone"},
    }
    undo_like = {
        "@context": CONTEXT,
        "id": f"{ann.uri}#likes/1/undo",
        "type": "Undo",
        "actor": ann.uri,
        "object": f"{ann.uri}#likes/1",
    }
    undo_follow = {
        "@context": CONTEXT,
        "id": f"{ann.uri}#follows/{writer}/undo",
        "type": "Undo",
        "actor": ann.uri,
        "object": {
            "id": f"{ann.uri}#follows/{writer}",
            "type": "Follow",
            "actor": ann.uri,
            "object": f"http://localhost/ap/users/{writer}",
        },
    }
    for activity in (delete, undo_like, undo_follow):
        assert post_activity(client, ann, "/ap/inbox", activity).status_code == 202
    with fed.app_context():
        post = db.session.get(Post, post_id)
        assert (post.comment_count, post.fediverse_likes, post.fediverse_shares) == (
            0,
            0,
            1,
        )
        assert db.session.query(RemoteFollower).count() == 0
    page = client.get(f"/{post_id}", follow_redirects=True).get_data(as_text=True)
    assert "Lovely post!" not in page


def test_a_held_reply_waits_in_the_moderation_queue(fed, remote_server):
    client = fed.test_client()
    ann = remote_server.add_user("ann")
    with fed.app_context():
        user = db.session.get(User, writer_id(fed))
        post = writing.create_post(user, "Out today", "Text.", tags=[], publish=True)
        post_id = post.id
        settings_rules = hold_rules.parse_rules("first_comment")
        site.settings().hold_rules = ",".join(settings_rules)
        db.session.commit()
    activity = reply_to(ann, f"http://localhost/ap/posts/{post_id}", 7, "First!")
    assert post_activity(client, ann, "/ap/inbox", activity).status_code == 202
    with fed.app_context():
        comment = db.session.scalars(sa.select(Comment)).one()
        assert comment.state == HELD
        assert comment.remote_actor.handle.startswith("@ann@")
    page = client.get(f"/{post_id}", follow_redirects=True).get_data(as_text=True)
    assert "First!" not in page
    # The same Create again (a retried delivery) adds nothing.
    assert post_activity(client, ann, "/ap/inbox", activity).status_code == 202
    with fed.app_context():
        assert db.session.query(Comment).count() == 1
        assert db.session.scalars(sa.select(Comment.state)).one() != VISIBLE


def test_an_unsigned_or_forged_reply_changes_nothing(fed, remote_server):
    client = fed.test_client()
    ann = remote_server.add_user("ann")
    bob = remote_server.add_user("bob")
    with fed.app_context():
        user = db.session.get(User, writer_id(fed))
        post_id = writing.create_post(user, "T", "Text.", tags=[], publish=True).id
    activity = reply_to(ann, f"http://localhost/ap/posts/{post_id}", 1)
    unsigned = client.post(
        "/ap/inbox",
        data=json.dumps(activity),
        headers={"Content-Type": "application/activity+json"},
    )
    assert unsigned.status_code == 401
    # Signed by bob, claiming to be ann.
    assert post_activity(client, bob, "/ap/inbox", activity).status_code == 400
    with fed.app_context():
        assert db.session.query(Comment).count() == 0

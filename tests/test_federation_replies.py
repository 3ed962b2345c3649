"""Replies and reactions from the fediverse (``services/federation/replies.py``):
replies become comments, held or dropped as local ones are; likes and boosts
are counted on the posts; ``Update``, ``Delete`` and ``Undo`` follow them."""

import datetime as dt
import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import COMMENT_MAX_LENGTH
from flaskr.models import Event
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import RemoteReaction
from flaskr.models import User
from flaskr.services.base import events
from flaskr.services.federation import ids
from flaskr.services.federation import remote_actors
from flaskr.services.federation import replies
from flaskr.services.governance import moderation
from flaskr.services.portability.exports import export_zip
from flaskr.services.portability.exports import Scope
from flaskr.services.social import reactions
from tests.conftest import add_test_data
from tests.conftest import csrf_token_from
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.conftest import make_post
from tests.helpers import logged_in
from tests.helpers import set_comment_settings
from tests.helpers import user_named
from tests.helpers import visible_comment_count

POST = "http://localhost/ap/posts/1"


@pytest.fixture
def fed(make_app, password_hashes):
    app = make_app(**FEDERATION_TEST_CONFIG)
    with app.app_context():
        add_test_data(password_hashes)
    return app


@pytest.fixture
def ann(remote_server):
    return remote_server.add_user("ann")


@pytest.fixture
def bob(remote_server):
    return remote_server.add_user("bob")


def actor(user):
    """The ``RemoteActor`` of a ``remote_server`` user, fetched as the inbox
    would; in the caller's app context."""
    found = remote_actors.fetch_actor(user.uri)
    db.session.commit()
    return found


def note(user, number=1, content="<p>Nice post</p>", **fields):
    document = {
        "id": f"{user.uri}/notes/{number}",
        "type": "Note",
        "attributedTo": user.uri,
        "inReplyTo": POST,
        "content": content,
        "url": f"{user.uri.replace('/users/', '/@')}/{number}",
        "published": "2026-01-02T03:04:05Z",
        "to": [ids.PUBLIC],
    }
    document.update(fields)
    return document


def create(user, obj, kind="Create"):
    obj_id = obj["id"] if isinstance(obj, dict) else obj
    return {"id": f"{obj_id}#{kind}", "type": kind, "actor": user.uri, "object": obj}


def comments():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


def post_1():
    post = db.session.get(Post, 1)
    db.session.refresh(post)
    return post


def assert_count_exact(post_id=1):
    db.session.expire_all()
    assert db.session.get(Post, post_id).comment_count == visible_comment_count(post_id)


def test_a_reply_becomes_a_visible_comment(fed, ann, security_events):
    with fed.app_context():
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, note(ann))) is True
        [comment] = comments()
        assert comment.state == "visible"
        assert comment.author_id is None
        assert comment.remote_actor_id == remote.id
        assert comment.remote_id == f"{ann.uri}/notes/1"
        assert comment.remote_url == f"{ann.uri.replace('/users/', '/@')}/1"
        assert comment.body == "Nice post"
        assert comment.body_html == "<p>Nice post</p>"
        assert comment.created == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert post_1().comment_count == 1
        [added] = db.session.scalars(
            sa.select(Event).where(Event.kind == events.COMMENT_ADDED)
        )
        assert added.payload["commenter"] == f"Ann ({remote.handle})"
        assert added.payload["post_link"] == "http://localhost/1#comments"
        # The writer's comment mail goes out for a reply with no local author.
        writer = user_named("test")
        writer.email = "test@example.org"
        db.session.commit()
        reactions.mail_writer_about_comment(added)
        db.session.commit()
        [mail] = db.session.scalars(sa.select(OutboxMail))
        assert mail.recipient == "test@example.org"
        assert f"Ann ({remote.handle}) commented" in mail.text_body
        assert "Nice post" in mail.text_body
    assert any(e["event"] == "federation_reply_added" for e in security_events)


@pytest.mark.parametrize(
    "target",
    [
        POST,
        "http://localhost/1",
        "http://localhost/1#comments",
        "http://localhost/p/test-title",
        {"id": POST, "type": "Article"},
    ],
)
def test_each_address_of_a_post_takes_replies(fed, ann, target):
    with fed.app_context():
        post_1().slug = "test-title"
        db.session.commit()
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, note(ann, inReplyTo=target)))
        assert len(comments()) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"inReplyTo": "https://elsewhere.example/notes/1"},
        {"inReplyTo": None},
        {"inReplyTo": "http://localhost/ap/posts/999"},
        {"inReplyTo": "http://localhost/about"},
        {"type": "Question"},
    ],
)
def test_what_is_no_reply_to_a_post_here_is_left_to_others(fed, ann, change):
    with fed.app_context():
        remote = actor(ann)
        assert not replies.receive_note(remote, create(ann, note(ann, **change)))
        assert comments() == []


def test_an_object_named_by_its_id_is_fetched_from_the_actors_host(
    fed, ann, remote_server
):
    address = remote_server.put("/users/ann/notes/7", note(ann, 7))
    with fed.app_context():
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, address))
        [comment] = comments()
        assert comment.remote_id == address
    fetch = [r for r in remote_server.received if r.path == "/users/ann/notes/7"]
    assert 'keyId="http://localhost/ap/site#main-key"' in fetch[0].headers["signature"]
    # Another host's object is not fetched; one that claims another id is
    # not taken.
    elsewhere = remote_server.put("/users/ann/notes/8", note(ann, 9))
    with fed.app_context():
        remote = actor(ann)
        assert not replies.receive_note(
            remote, create(ann, "https://elsewhere.example/notes/1")
        )
        assert not replies.receive_note(remote, create(ann, elsewhere))
        assert len(comments()) == 1


def test_forged_replies_are_dropped(fed, ann, bob, security_events):
    with fed.app_context():
        remote = actor(ann)
        actor(bob)
        other_host = note(ann, id="https://elsewhere.example/notes/1")
        someone_else = note(ann, attributedTo=bob.uri)
        for forged in (other_host, someone_else):
            assert replies.receive_note(remote, create(ann, forged)) is True
        assert comments() == []
        assert post_1().comment_count == 0
    reasons = [e["reason"] for e in security_events if "reason" in e]
    assert "the object's id is not on the actor's host" in reasons
    assert "the object is attributed to someone else" in reasons


def test_sanitising(fed, ann):
    content = (
        '<p class="x" style="color:red" onclick="steal()">Hi '
        '<span class="h-card"><a href="https://m.example/@test" class="u-url mention">'
        "@<span>test</span></a></span> "
        "<script>alert(1)</script><style>p{}</style>"
        '<img src="https://evil.example/x.png" onerror="x()">'
        '<a href="javascript:alert(1)">click</a> '
        '<a href="https://example.org/page">a page</a><br>'
        "second &amp; line</p><p>Two</p>"
    )
    with fed.app_context():
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann, content=content)))
        [comment] = comments()
    html = comment.body_html
    for gone in ("script", "alert", "style", "onclick", "class", "img", "javascript"):
        assert gone not in html
    assert (
        '<a href="https://m.example/@test" rel="nofollow ugc noopener">@test</a>'
        in (html)
    )
    assert '<a href="https://example.org/page" rel="nofollow ugc noopener">' in html
    assert "<p>Hi " in html and "<br>" in html
    assert comment.body == (
        "Hi @test click a page (https://example.org/page)\nsecond & line\n\nTwo"
    )


def test_a_replay_adds_nothing(fed, ann):
    activity = create(ann, note(ann))
    with fed.app_context():
        remote = actor(ann)
        for _ in range(3):
            assert replies.receive_note(remote, activity)
        assert len(comments()) == 1
        assert post_1().comment_count == 1


def test_an_update_edits_the_comment(fed, ann, bob):
    with fed.app_context():
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann)))
        edited = note(ann, content="<p>Better <b>words</b></p>")
        assert replies.receive_note(remote, create(ann, edited, "Update"))
        [comment] = comments()
        assert comment.body == "Better words"
        assert comment.body_html == "<p>Better words</p>"
        assert comment.edited is not None
        # Another actor's Update of it (on the same host) changes nothing.
        forged = note(ann, content="<p>Mine now</p>", attributedTo=bob.uri)
        assert replies.receive_note(actor(bob), create(bob, forged, "Update"))
        assert comments()[0].body == "Better words"
        assert post_1().comment_count == 1


def test_an_update_with_links_holds_a_visible_comment_again(fed, ann):
    links = "".join(f'<a href="https://x.example/{n}">x{n}</a> ' for n in range(3))
    with fed.app_context():
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann)))
        replies.receive_note(remote, create(ann, note(ann, content=links), "Update"))
        [comment] = comments()
        assert comment.state == "held"
        assert "3 links" in comment.hold_reason
        assert post_1().comment_count == 0


def test_an_update_of_an_unseen_note_is_taken_as_its_create(fed, ann):
    with fed.app_context():
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, note(ann), "Update"))
        assert len(comments()) == 1


@pytest.mark.parametrize(
    ("setting", "content", "reason"),
    [
        (
            {},
            '<p><a href="https://a.example">a</a> https://b.example '
            '<a href="https://c.example">https://c.example</a></p>',
            "3 links",
        ),
        ({"hold_words": "casino"}, "<p>Best CASINO here</p>", "listed word 'casino'"),
        ({"hold_rules": "first_comment"}, "<p>Hello</p>", "first reply"),
        ({"comment_policy": "members"}, "<p>Hello</p>", "comments are for members"),
    ],
)
def test_hold_rules_hold_replies(fed, ann, setting, content, reason):
    with fed.app_context():
        set_comment_settings(**setting)
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, note(ann, content=content)))
        [comment] = comments()
        assert comment.state == "held"
        assert reason in comment.hold_reason
        assert post_1().comment_count == 0
        kinds = db.session.scalars(sa.select(Event.kind)).all()
        assert events.MODERATION_WAITING in kinds
        assert events.COMMENT_ADDED not in kinds


def test_first_comment_counts_per_remote_actor(fed, ann, bob):
    with fed.app_context():
        set_comment_settings(hold_rules="first_comment")
        first = actor(ann)
        replies.receive_note(first, create(ann, note(ann, 1)))
        replies.receive_note(first, create(ann, note(ann, 2)))
        replies.receive_note(actor(bob), create(bob, note(bob, 1)))
        states = [(c.remote_actor_id, c.state) for c in comments()]
        assert [state for _, state in states] == ["held", "visible", "held"]


def test_the_same_text_on_another_post_is_held(fed, ann):
    with fed.app_context():
        db.session.add(make_post(1, "second"))
        db.session.commit()
        set_comment_settings(hold_rules="repeated")
        remote = actor(ann)
        # The rule looks back a week: these were published just now.
        first = note(ann, 1, "<p>Buy now</p>", published=None)
        replies.receive_note(remote, create(ann, first))
        again = note(
            ann, 2, "<p>buy   NOW</p>", inReplyTo="http://localhost/2", published=None
        )
        replies.receive_note(remote, create(ann, again))
        assert [c.state for c in comments()] == ["visible", "held"]
        assert comments()[1].hold_reason == "the same text on another post"


def closed(post):
    post.comments_open = False


def draft(post):
    post.published = None


def trashed(post):
    post.deleted = dt.datetime.now(dt.UTC)


def in_the_future(post):
    post.published = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def writer_suspended(post):
    post.author.state = "suspended"


def nobody_may_comment(post):
    set_comment_settings(comment_policy="nobody")


@pytest.mark.parametrize(
    "change",
    [closed, draft, trashed, in_the_future, writer_suspended, nobody_may_comment],
)
def test_replies_are_dropped_where_comments_are_not_taken(fed, ann, change):
    with fed.app_context():
        change(post_1())
        db.session.commit()
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, note(ann))) is True
        assert comments() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"content": "<p>" + "x" * (COMMENT_MAX_LENGTH + 1) + "</p>"},
        {"content": "<script>only()</script>"},
        {"content": None},
    ],
)
def test_too_long_or_empty_replies_are_dropped(fed, ann, fields):
    with fed.app_context():
        remote = actor(ann)
        assert replies.receive_note(remote, create(ann, note(ann, **fields)))
        assert comments() == []


@pytest.mark.parametrize(
    "published", ["2999-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "not a time", 5]
)
def test_an_insane_published_time_becomes_now(fed, ann, published):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with fed.app_context():
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann, published=published)))
        [comment] = comments()
        assert before <= comment.created <= dt.datetime.now(dt.UTC)


def test_a_delete_removes_the_comment(fed, ann, bob):
    with fed.app_context():
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann, 1)))
        replies.receive_note(remote, create(ann, note(ann, 2)))
        first, second = (c.remote_id for c in comments())
        # Another actor's Delete names nothing of theirs.
        assert not replies.receive_delete(actor(bob), create(bob, first, "Delete"))
        assert replies.receive_delete(remote, create(ann, first, "Delete"))
        tombstone = {"id": second, "type": "Tombstone"}
        assert replies.receive_delete(remote, create(ann, tombstone, "Delete"))
        assert comments() == []
        assert post_1().comment_count == 0
        assert not replies.receive_delete(remote, create(ann, first, "Delete"))


def like(user, number=1, obj=POST, kind="Like"):
    return {
        "id": f"{user.uri}/{kind.lower()}s/{number}",
        "type": kind,
        "actor": user.uri,
        "object": obj,
    }


def test_likes_and_boosts_are_counted_once(fed, ann, bob):
    with fed.app_context():
        first, second = actor(ann), actor(bob)
        replies.receive_like(first, like(ann))
        replies.receive_like(first, like(ann))  # a replay
        replies.receive_like(first, like(ann, 2))  # a second like: one per actor
        replies.receive_like(second, like(bob))
        replies.receive_announce(first, like(ann, kind="Announce"))
        replies.receive_announce(
            second, like(bob, obj="https://x.example/n/1", kind="Announce")
        )
        post = post_1()
        assert (post.fediverse_likes, post.fediverse_shares) == (2, 1)
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(RemoteReaction))
        assert rows == 3


def test_reactions_to_posts_not_public_are_ignored(fed, ann):
    with fed.app_context():
        draft(post_1())
        db.session.commit()
        replies.receive_like(actor(ann), like(ann))
        assert post_1().fediverse_likes == 0


def test_undo_takes_a_reaction_back(fed, ann, bob):
    with fed.app_context():
        first, second = actor(ann), actor(bob)
        replies.receive_like(first, like(ann))
        replies.receive_announce(first, like(ann, kind="Announce"))
        replies.receive_like(second, like(bob))
        # Someone else's Undo of it changes nothing.
        replies.receive_undo(second, create(bob, like(ann)["id"], "Undo"))
        assert post_1().fediverse_likes == 2
        # By id; embedded (with another id, as some servers send it).
        replies.receive_undo(first, create(ann, like(ann)["id"], "Undo"))
        replies.receive_undo(first, create(ann, like(ann)["id"], "Undo"))  # replay
        boost = like(ann, 99, kind="Announce")
        replies.receive_undo(first, create(ann, boost, "Undo"))
        post = post_1()
        assert (post.fediverse_likes, post.fediverse_shares) == (1, 0)


def test_forget_actor_takes_everything_of_theirs(fed, ann, bob):
    with fed.app_context():
        set_comment_settings(hold_words="casino")
        first, second = actor(ann), actor(bob)
        replies.receive_note(first, create(ann, note(ann, 1)))
        replies.receive_note(first, create(ann, note(ann, 2, "<p>casino</p>")))
        replies.receive_note(second, create(bob, note(bob, 1)))
        replies.receive_like(first, like(ann))
        replies.receive_announce(first, like(ann, kind="Announce"))
        replies.receive_like(second, like(bob))
        db.session.add(RemoteFollower(user_id=1, actor_id=first.id, follow_id="f"))
        db.session.commit()
        assert post_1().comment_count == 2
        replies.forget_actor(first)
        db.session.expire_all()
        assert [c.remote_actor_id for c in comments()] == [second.id]
        post = post_1()
        assert (post.comment_count, post.fediverse_likes, post.fediverse_shares) == (
            1,
            1,
            0,
        )
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(RemoteFollower))
            == 0
        )
        assert remote_actors.known_actor(ann.uri) is None
        assert db.session.get(RemoteActor, second.id) is not None
        assert_count_exact()


def test_moderators_decide_on_held_replies(fed, ann):
    with fed.app_context():
        set_comment_settings(hold_words="casino")
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann, 1, "<p>casino 1</p>")))
        replies.receive_note(remote, create(ann, note(ann, 2, "<p>casino 2</p>")))
        writer = user_named("test")
        one, two = (c.id for c in comments())
        held = moderation.held_comments(writer)
        assert [entry.comment.remote_actor.handle for entry in held] == [
            remote.handle
        ] * 2

        def link(post):
            return "http://localhost/1#comments"

        moderation.decide_comments(writer, [one], moderation.APPROVE, post_link=link)
        admin = User("admin", "x")
        admin.role = "admin"
        db.session.add(admin)
        db.session.commit()
        decided = moderation.decide_comments(
            admin, [two], moderation.MARK_SPAM, post_link=link
        )
        assert decided.suspended == []
        assert [c.state for c in comments()] == ["visible", "spam"]
        assert post_1().comment_count == 1


def test_the_post_page_shows_remote_comments_at_once(fed, ann):
    reader = fed.test_client()
    reader.get("/1")
    assert "via the fediverse" not in reader.get("/1").get_data(as_text=True)
    with fed.app_context():
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann)))
        replies.receive_like(remote, like(ann))
        replies.receive_announce(remote, like(ann, kind="Announce"))
        handle = remote.handle
        profile = remote.profile_url
    page = reader.get("/1").get_data(as_text=True)
    assert "Nice post" in page
    assert "via the fediverse" in page
    assert f'<a href="{profile}" rel="nofollow ugc noopener"><bdi>Ann</bdi>' in page
    assert f'<span class="handle" dir="ltr">{handle}</span>' in page
    original = f"{ann.uri.replace('/users/', '/@')}/1"
    assert f'<a class="action" href="{original}" rel="nofollow ugc noopener">' in page
    assert "Comments (1)" in page
    assert "1 like and 1 boost from the fediverse" in page
    assert "/avatars/ann.png" not in page  # the CSP loads no remote picture
    # No edit link for anyone; its writer may delete it.
    with fed.app_context():
        [comment] = comments()
    writer = logged_in(fed)
    assert f"/comments/{comment.id}/edit" not in writer.get("/1").get_data(as_text=True)
    assert writer.get(f"/comments/{comment.id}/edit").status_code == 403
    token = csrf_token_from(writer, "/1")
    deleted = writer.post(f"/comments/{comment.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    with fed.app_context():
        assert comments() == []
        assert post_1().comment_count == 0
    assert "via the fediverse" not in reader.get("/1").get_data(as_text=True)


def test_an_export_names_the_remote_author_beside_no_account(fed, ann):
    with fed.app_context():
        post_1().slug = "test-title"
        db.session.commit()
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann)))
        archive = zipfile.ZipFile(io.BytesIO(b"".join(export_zip(Scope()))))
        [record] = json.loads(archive.read("comments.json"))
        assert record["author"] is None
        assert record["remote_author"] == remote.handle
        assert record["body"] == "Nice post"


def test_the_api_shows_a_remote_author(fed, ann, remote_server):
    carol = remote_server.add_user("carol", icon=None)
    with fed.app_context():
        post_1().slug = "test-title"
        db.session.commit()
        remote = actor(ann)
        replies.receive_note(remote, create(ann, note(ann)))
        replies.receive_note(actor(carol), create(carol, note(carol)))
        handle, icon = remote.handle, remote.icon_url
    listed = fed.test_client().get("/api/articles/test-title/comments").json
    comment, pictureless = listed["comments"]
    # No icon: the default picture, as for a member without one.
    assert pictureless["author"]["image"].endswith("avatar.svg")
    assert pictureless["author"]["username"].startswith("carol@")
    author = comment["author"]
    assert author["username"] == handle.removeprefix("@")
    assert "@" in author["username"] and not author["username"].startswith("@")
    assert author["bio"] == ""
    assert author["image"] == icon
    assert author["following"] is False
    assert comment["body"] == "Nice post"

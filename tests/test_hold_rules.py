"""The hold rules: each on and off, who is never held, and what a held
comment is (uncounted, unmailed, seen by its writer only)."""

import datetime as dt

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.base import site
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.social import hold_rules
from flaskr.services.social.reactions import add_comment
from flaskr.services.social.reactions import comments_on
from flaskr.services.social.reactions import edit_comment
from tests.helpers import add_user
from tests.helpers import comments_link
from tests.helpers import set_comment_settings
from tests.helpers import visible_comment_count

OLD = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _say(user, body, post_id=1):
    post = db.session.get(Post, post_id)
    return add_comment(post, user, body, post_link=comments_link(post))


@pytest.fixture
def reader(app):
    with app.app_context():
        return add_user("reader", role="reader", created=OLD).id


def _reader():
    return db.session.scalars(sa.select(User).filter_by(username="reader")).one()


@pytest.mark.parametrize(
    ("rules", "body", "reason"),
    [
        (
            "links",
            "see http://a.example http://b.example www.c.example",
            "3 links (more than 2)",
        ),
        ("words", "Play at the CASINO tonight", "the listed word 'casino'"),
        ("words", "Смотри: КАЗИНО!", "the listed word 'казино'"),
        ("first_comment", "Hello there", "the account's first comment"),
    ],
)
def test_each_rule_holds_when_on_and_not_when_off(app, reader, rules, body, reason):
    with app.app_context():
        set_comment_settings(hold_rules=rules, hold_words="casino\nказино")
        held = _say(_reader(), body)
        assert (held.state, held.hold_reason) == ("held", reason)
        set_comment_settings(hold_rules="")
        shown = _say(_reader(), body + " again")
        assert shown.state == "visible"


def test_words_match_whole_words_only(app, reader):
    with app.app_context():
        set_comment_settings(hold_rules="words", hold_words="cas")
        assert _say(_reader(), "a casino and a cassette").state == "visible"
        assert _say(_reader(), "Cas, again").state == "held"


def test_links_up_to_the_limit_pass(app, reader):
    with app.app_context():
        set_comment_settings(hold_rules="links", hold_link_limit=2)
        assert (
            _say(_reader(), "[a](https://a.example) and https://b.example").state
            == "visible"
        )
        set_comment_settings(hold_link_limit=0)
        assert _say(_reader(), "one https://a.example").state == "held"


def test_young_account(app):
    with app.app_context():
        young = add_user(
            "young", role="reader", created=utcnow() - dt.timedelta(hours=2)
        )
        set_comment_settings(hold_rules="young_account", hold_account_hours=24)
        comment = _say(young, "Hi")
        assert comment.hold_reason == "an account younger than 24 hours"
        set_comment_settings(hold_account_hours=1)
        assert _say(young, "Hi again").state == "visible"


def test_repeated_text_on_another_post(app, reader):
    with app.app_context():
        db.session.add(
            Post(
                author_id=1,
                title="second",
                body="",
                body_html="",
                body_text="",
                excerpt="",
                word_count=0,
                created=OLD,
                published=OLD,
            )
        )
        db.session.commit()
        set_comment_settings(hold_rules="repeated")
        assert _say(_reader(), "Great   post!", post_id=1).state == "visible"
        # On the same post it is only a repeat, not spread around.
        assert _say(_reader(), "GREAT POST!", post_id=1).state == "visible"
        # The same text, case and spacing aside, on another post.
        held = _say(_reader(), "great post!", post_id=2)
        assert held.hold_reason == "the same text on another post"


def test_several_rules_name_every_reason(app, reader):
    with app.app_context():
        set_comment_settings(
            hold_rules="links,words,first_comment",
            hold_words="casino",
            hold_link_limit=0,
        )
        held = _say(_reader(), "casino at https://x.example")
        assert held.hold_reason == (
            "the account's first comment; 1 link (more than 0);"
            " the listed word 'casino'"
        )


def test_the_deployment_default_applies_until_chosen(app_with):
    app = app_with(COMMENT_HOLD_RULES="first_comment")
    with app.app_context():
        user = add_user("fresh", role="reader")
        assert hold_rules.active_rules(site.settings()) == ("first_comment",)
        assert _say(user, "first").state == "held"


def test_links_and_words_are_on_by_default(app, reader):
    with app.app_context():
        set_comment_settings(hold_words="casino")
        assert _say(_reader(), "casino").state == "held"
        assert _say(_reader(), "http://a http://b http://c").state == "held"
        assert _say(_reader(), "an ordinary first comment").state == "visible"


@pytest.mark.parametrize("role", ["admin", "editor"])
def test_moderators_and_the_writer_are_never_held(app, role):
    with app.app_context():
        set_comment_settings(hold_rules="first_comment,words", hold_words="casino")
        moderator = add_user("mod", role=role, created=utcnow())
        assert _say(moderator, "casino").state == "visible"
        writer = db.session.get(User, 1)
        assert _say(writer, "casino on my own post").state == "visible"


def test_a_held_comment_is_uncounted_unmailed_and_seen_by_its_writer_only(app, reader):
    with app.app_context():
        writer = db.session.get(User, 1)
        writer.email = "test@example.com"
        db.session.commit()
        set_comment_settings(hold_rules="first_comment")
        held = _say(_reader(), "wait for me")
        deliver_due_events()
        post = db.session.get(Post, 1)
        db.session.refresh(post)
        assert post.comment_count == 0 == visible_comment_count(1)
        mails = db.session.scalars(sa.select(OutboxMail.recipient)).all()
        assert "test@example.com" not in mails
        assert [c.id for c in comments_on(post, 10, viewer=_reader())] == [held.id]
        assert comments_on(post, 10, viewer=writer) == []
        assert comments_on(post, 10) == []


def test_a_held_comment_shows_awaiting_moderation_to_its_writer(app, reader, client):
    from tests.helpers import comment as send_comment
    from tests.helpers import logged_in

    with app.app_context():
        user = db.session.get(User, 1)
        other = db.session.scalars(sa.select(User).filter_by(username="other")).one()
        other.role = "reader"
        db.session.commit()
        set_comment_settings(hold_rules="words", hold_words="casino")
        assert user is not None
    theirs = logged_in(app, "other")
    response = send_comment(theirs, "casino time")
    assert response.status_code == 302
    page = theirs.get("/1", follow_redirects=True).get_data(as_text=True)
    assert "casino time" in page and "Awaiting moderation" in page
    assert "Comments (1)" not in page
    anonymous = client.get("/1", follow_redirects=True).get_data(as_text=True)
    assert "casino time" not in anonymous


def test_an_edit_that_breaks_a_rule_holds_the_comment_again(app, reader):
    with app.app_context():
        set_comment_settings(hold_rules="words", hold_words="casino")
        comment = _say(_reader(), "a fine comment")
        assert db.session.get(Post, 1).comment_count == 1
        edit_comment(comment, "now with casino")
        db.session.expire_all()
        found = db.session.get(Comment, comment.id)
        assert (found.state, found.hold_reason) == ("held", "the listed word 'casino'")
        assert db.session.get(Post, 1).comment_count == 0

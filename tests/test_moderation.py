"""Comments under control: the policy, each post's switch, the queue and its
decisions (one, in bulk, spam that suspends a new account), the comment
settings, the moderators' daily mail and the JSON API."""

import datetime as dt

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import Comment
from flaskr.models import Event
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.base import site
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.governance import moderation
from flaskr.services.social import comment_policy
from flaskr.services.social.reactions import add_comment
from tests.conftest import csrf_token_from
from tests.helpers import add_user
from tests.helpers import assert_counts_match_rows
from tests.helpers import comments_link
from tests.helpers import logged_in
from tests.helpers import set_comment_settings
from tests.helpers import visible_comment_count

OLD = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _say(user, body, post_id=1):
    post = db.session.get(Post, post_id)
    return add_comment(post, user, body, post_link=comments_link(post))


def _user(name):
    return db.session.scalars(sa.select(User).filter_by(username=name)).one()


def _actions():
    return db.session.scalars(
        sa.select(AuditEntry.action).order_by(AuditEntry.id)
    ).all()


@pytest.fixture
def people(app, password_hashes):
    """An editor, an old reader, a new reader (all with addresses); held
    comments from the two readers; ``test`` (who wrote post 1) is admin."""
    with app.app_context():
        admin = db.session.get(User, 1)
        admin.role = "admin"
        admin.email = "admin@example.org"
        db.session.commit()
        add_user(
            "editor",
            role="editor",
            created=OLD,
            email="editor@example.org",
            password_hash=password_hashes["test"],
        )
        add_user("old", role="reader", created=OLD)
        add_user("new", role="reader", created=utcnow())
        set_comment_settings(hold_rules="words", hold_words="casino")
    return app


# The policy and the switch


def test_policy_nobody_refuses_everyone(people):
    with people.app_context():
        set_comment_settings(comment_policy="nobody")
        with pytest.raises(NotAllowed, match="Comments are closed."):
            _say(_user("editor"), "hello")


def test_policy_members_needs_a_published_post(people):
    with people.app_context():
        set_comment_settings(comment_policy="members")
        with pytest.raises(NotAllowed, match="Only members who have published"):
            _say(_user("old"), "hello")
        # ``test`` has a published post.
        assert _say(_user("test"), "hello").state == "visible"


def test_the_post_page_says_why_there_is_no_form(people):
    with people.app_context():
        set_comment_settings(comment_policy="members")
        other = _user("other")
        other.role = "reader"
        db.session.commit()
    client = logged_in(people, "other")
    page = client.get("/1", follow_redirects=True).get_data(as_text=True)
    assert "Only members who have published a post may comment." in page
    assert 'id="comment-form"' not in page
    token = csrf_token_from(client, "/auth/account")
    refused = client.post("/1/comments", data={"body": "hi", "csrf_token": token})
    assert refused.status_code == 403
    with people.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_the_switch_closes_one_post(people):
    with people.app_context():
        post = db.session.get(Post, 1)
        with pytest.raises(NotAllowed):
            comment_policy.set_comments_open(_user("old"), post, False)
        comment_policy.set_comments_open(_user("editor"), post, False)
        with pytest.raises(NotAllowed, match="Comments are closed."):
            _say(_user("old"), "hello")
        comment_policy.set_comments_open(_user("test"), post, True)
        assert _say(_user("old"), "hello").state == "visible"


def test_the_writer_closes_comments_from_the_post_page(people):
    client = logged_in(people, "test")
    page = client.get("/1", follow_redirects=True).get_data(as_text=True)
    assert "Close comments on this post" in page
    token = csrf_token_from(client, "/1")
    response = client.post(
        "/1/comments/switch", data={"open": "no", "switch-csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/1", follow_redirects=True).get_data(as_text=True)
    assert "Comments are closed." in page
    assert "Open comments on this post" in page
    other = logged_in(people, "other")
    token = csrf_token_from(other, "/auth/account")
    refused = other.post(
        "/1/comments/switch", data={"open": "yes", "switch-csrf_token": token}
    )
    assert refused.status_code == 403


def test_a_suspended_account_may_not_comment(people):
    with people.app_context():
        old = _user("old")
        old.state = "suspended"
        db.session.commit()
        with pytest.raises(NotAllowed):
            _say(old, "hello")


# The queue


def test_the_queue_shows_moderators_everything_and_writers_their_own(people):
    with people.app_context():
        db.session.add(
            Post(
                author_id=2,
                title="other's",
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
        on_test = _say(_user("old"), "casino one", post_id=1)
        on_other = _say(_user("old"), "casino two", post_id=2)
        ids = lambda user: [h.comment.id for h in moderation.held_comments(user)]  # noqa: E731
        assert ids(_user("editor")) == [on_test.id, on_other.id]
        assert ids(_user("other")) == [on_other.id]
        assert moderation.count_waiting(_user("other")) == 1
    page = logged_in(people, "editor", "test").get("/moderation").get_data(as_text=True)
    assert "casino one" in page and "casino two" in page
    assert "the listed word &#39;casino&#39;" in page
    reader = logged_in(people, "other")
    page = reader.get("/moderation").get_data(as_text=True)
    assert "casino two" in page and "casino one" not in page


def test_readers_have_no_queue(people):
    with people.app_context():
        _user("other").role = "reader"
        db.session.commit()
    assert logged_in(people, "other").get("/moderation").status_code == 403


def test_approving_counts_and_mails_the_writer(people):
    with people.app_context():
        held = _say(_user("old"), "casino")
        deliver_due_events()  # the moderators' mail
        db.session.execute(sa.delete(OutboxMail))
        db.session.commit()
        decided = moderation.decide_comments(
            _user("editor"), [held.id], "approve", post_link=comments_link
        )
        assert (decided.done, decided.already) == (1, 0)
        deliver_due_events()
        assert db.session.get(Post, 1).comment_count == 1 == visible_comment_count(1)
        mails = db.session.scalars(sa.select(OutboxMail.recipient)).all()
        assert mails == ["admin@example.org"]  # ``test`` wrote the post
        assert _actions()[-1] == "comment_approved"
        assert_counts_match_rows()


def test_a_bulk_decision_is_one_transaction_and_second_decisions_are_told(people):
    with people.app_context():
        first = _say(_user("old"), "casino 1")
        second = _say(_user("old"), "casino 2")
        moderation.decide_comments(
            _user("test"), [first.id], "approve", post_link=comments_link
        )
        decided = moderation.decide_comments(
            _user("editor"), [first.id, second.id], "reject", post_link=comments_link
        )
        assert (decided.done, decided.already) == (1, 1)
        db.session.expire_all()
        states = [db.session.get(Comment, c).state for c in (first.id, second.id)]
        assert states == ["visible", "rejected"]
        assert db.session.get(Post, 1).comment_count == 1


def test_someone_elses_post_cannot_be_decided_on(people):
    with people.app_context():
        held = _say(_user("old"), "casino")
        with pytest.raises(NotAllowed):
            moderation.decide_comments(
                _user("other"), [held.id], "approve", post_link=comments_link
            )
        with pytest.raises(Invalid):
            moderation.decide_comments(
                _user("editor"), [held.id], "publish", post_link=comments_link
            )
        assert db.session.get(Comment, held.id).state == "held"


def test_spam_suspends_a_new_account_and_not_an_old_one(people):
    with people.app_context():
        old = _say(_user("old"), "earlier")
        assert old.state == "visible"
        spam_old = _say(_user("old"), "casino")
        spam_new = _say(_user("new"), "casino")
        decided = moderation.decide_comments(
            _user("editor"),
            [spam_old.id, spam_new.id],
            "spam",
            post_link=comments_link,
        )
        assert decided.suspended == ["new"]
        db.session.expire_all()
        assert _user("new").state == "suspended"
        assert _user("new").state_reason == "Spam"
        assert _user("old").state == "active"
        entries = db.session.execute(
            sa.select(
                AuditEntry.action, AuditEntry.actor_name, AuditEntry.subject_name
            ).order_by(AuditEntry.id)
        ).all()
        assert ("comment_spam", "editor", "new") in entries
        assert ("suspended", "", "new") in entries
        assert db.session.get(Post, 1).comment_count == 1


def test_a_writer_marking_spam_suspends_nobody(people):
    with people.app_context():
        spam = _say(_user("new"), "casino")
        writer = _user("test")
        writer.role = "author"
        db.session.commit()
        decided = moderation.decide_comments(
            writer, [spam.id], "spam", post_link=comments_link
        )
        assert decided.suspended == []
        assert _user("new").state == "active"


def test_the_queue_page_decides_in_bulk(people):
    with people.app_context():
        ids = [_say(_user("old"), f"casino {n}").id for n in range(3)]
    client = logged_in(people, "editor", "test")
    token = csrf_token_from(client, "/moderation")
    response = client.post(
        "/moderation/comments",
        data={
            "comment": [str(i) for i in ids[:2]],
            "decision": "approve",
            "decide-csrf_token": token,
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "2 comments approved." in page
    again = client.post(
        "/moderation/comments",
        data={
            "comment": [str(ids[0]), "junk", "99999999999999999999"],
            "decision": "reject",
            "decide-csrf_token": token,
        },
        follow_redirects=True,
    )
    assert "already been decided by another moderator" in again.get_data(as_text=True)
    nothing = client.post(
        "/moderation/comments",
        data={"decision": "reject", "decide-csrf_token": token},
        follow_redirects=True,
    )
    assert "Choose at least one comment." in nothing.get_data(as_text=True)
    no_token = client.post(
        "/moderation/comments", data={"comment": str(ids[2]), "decision": "reject"}
    )
    assert no_token.status_code == 400


def test_suspension_takes_comments_off_the_count(people):
    from flaskr.services.governance import members

    with people.app_context():
        _say(_user("old"), "visible one")
        assert db.session.get(Post, 1).comment_count == 1
        members.suspend(_user("test"), _user("old"), "Rude")
        db.session.expire_all()
        assert db.session.get(Post, 1).comment_count == 0 == visible_comment_count(1)
        members.lift(_user("test"), _user("old"))
        db.session.expire_all()
        assert db.session.get(Post, 1).comment_count == 1


# The settings


def test_only_an_administrator_changes_the_comment_settings(people):
    with people.app_context():
        with pytest.raises(NotAllowed):
            moderation.update_comment_settings(_user("editor"), "anyone", [], 2, "", 24)
        with pytest.raises(Invalid) as refused:
            moderation.update_comment_settings(
                _user("test"), "everyone", ["nonsense"], -1, "x" * 10_001, None
            )
        assert set(refused.value.problems) == {
            "policy",
            "rules",
            "link_limit",
            "words",
            "account_hours",
        }
        moderation.update_comment_settings(
            _user("test"),
            "members",
            ["repeated", "links"],
            5,
            "Casino\n\ncasino\nbet",
            48,
        )
        row = site.settings()
        assert (row.comment_policy, row.hold_rules, row.hold_link_limit) == (
            "members",
            "links,repeated",
            5,
        )
        assert (row.hold_words, row.hold_account_hours) == ("casino\nbet", 48)
        assert _actions()[-1] == "comment_settings_changed"


def test_the_settings_page_saves_the_comments_section(people):
    client = logged_in(people, "test")
    page = client.get("/admin").get_data(as_text=True)
    assert 'id="comments-heading"' in page
    token = csrf_token_from(client, "/admin")
    response = client.post(
        "/admin/comments",
        data={
            "comments-csrf_token": token,
            "comments-policy": "nobody",
            "comments-rules": ["first_comment", "words"],
            "comments-link_limit": "3",
            "comments-words": "casino",
            "comments-account_hours": "12",
        },
    )
    assert response.status_code == 302
    with people.app_context():
        assert site.settings().hold_rules == "first_comment,words"
        assert site.settings().comment_policy == "nobody"
    bad = client.post(
        "/admin/comments",
        data={
            "comments-csrf_token": token,
            "comments-policy": "nobody",
            "comments-link_limit": "many",
            "comments-words": "",
            "comments-account_hours": "12",
        },
    )
    assert bad.status_code == 422
    assert "Not a valid integer value." in bad.get_data(as_text=True)
    bad = client.post(
        "/admin/comments",
        data={
            "comments-csrf_token": token,
            "comments-policy": "nobody",
            "comments-link_limit": "2",
            "comments-words": "",
            "comments-account_hours": "-4",
        },
    )
    assert bad.status_code == 422
    assert "Give a number of hours from 0 to 8,760." in bad.get_data(as_text=True)
    editor = logged_in(people, "editor", "test")
    token = csrf_token_from(editor, "/auth/account")
    refused = editor.post("/admin/comments", data={"comments-csrf_token": token})
    assert refused.status_code == 403


# The moderators' mail


def test_moderators_are_mailed_at_most_once_a_day(people):
    with people.app_context():
        _say(_user("old"), "casino 1")
        _say(_user("old"), "casino 2")
        deliver_due_events()
        mails = db.session.execute(
            sa.select(OutboxMail.recipient, OutboxMail.text_body)
        ).all()
        assert sorted(m.recipient for m in mails) == [
            "admin@example.org",
            "editor@example.org",
        ]
        assert "held comment" in mails[0].text_body
        _say(_user("old"), "casino 3")
        deliver_due_events()
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 2
        )
        # The next day, a new mail.
        db.session.execute(
            sa.update(Event)
            .where(Event.kind == "moderation.waiting")
            .values(key="moderation.waiting:2000-01-01")
        )
        db.session.commit()
        _say(_user("old"), "casino 4")
        deliver_due_events()
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 4
        )


# The JSON API


def _token(client, name):
    user = {
        "username": name,
        "email": f"{name}@example.org",
        "password": "correct horse battery",
    }
    response = client.post("/api/users", json={"user": user})
    assert response.status_code == 201, response.json
    return {"Authorization": f"Token {response.json['user']['token']}"}


def test_the_api_follows_the_policy_and_the_hold_rules(people, client):
    ada, bob = _token(client, "ada"), _token(client, "bob")
    article = {"title": "A title", "description": "", "body": "Text"}
    slug = client.post("/api/articles", headers=ada, json={"article": article}).json[
        "article"
    ]["slug"]
    url = f"/api/articles/{slug}/comments"
    held = client.post(url, headers=bob, json={"comment": {"body": "casino"}})
    assert held.status_code == 200
    assert held.json["comment"]["state"] == "held"
    assert [c["body"] for c in client.get(url, headers=bob).json["comments"]] == [
        "casino"
    ]
    assert client.get(url).json["comments"] == []
    assert client.get(url, headers=ada).json["comments"] == []
    shown = client.post(url, headers=bob, json={"comment": {"body": "fine"}})
    assert shown.json["comment"]["state"] == "visible"
    with people.app_context():
        set_comment_settings(comment_policy="nobody")
    closed = client.post(url, headers=bob, json={"comment": {"body": "hi"}})
    assert closed.status_code == 403
    assert closed.json == {"errors": {"body": ["Comments are closed."]}}


HOSTILE = ["", "\x00", "9" * 40, "-1", "<script>", "a" * 20_000, "\u202e", "%s"]


def test_the_new_forms_never_answer_5xx(people):
    admin = logged_in(people, "test")
    token = csrf_token_from(admin, "/admin")
    for value in HOSTILE:
        answers = [
            admin.post(
                "/admin/comments",
                data={
                    "comments-csrf_token": token,
                    "comments-policy": value,
                    "comments-rules": [value, "links"],
                    "comments-link_limit": value,
                    "comments-words": value,
                    "comments-account_hours": value,
                },
            ),
            admin.post(
                "/moderation/comments",
                data={"decide-csrf_token": token, "comment": value, "decision": value},
            ),
            admin.post(
                "/moderation/reports/1",
                data={"resolve-csrf_token": token, "resolution": value},
            ),
            admin.post("/report/post/1", data={"csrf_token": token, "reason": value}),
            admin.post("/report/user/2", data={"csrf_token": token, "reason": value}),
            admin.post(
                "/1/comments/switch", data={"switch-csrf_token": token, "open": value}
            ),
        ]
        assert all(answer.status_code < 500 for answer in answers), [
            answer.status_code for answer in answers
        ]


def test_exports_leave_held_and_rejected_comments_behind(people):
    import io
    import json
    import zipfile

    from flaskr.services.portability.exports import export_zip
    from flaskr.services.portability.exports import Scope

    with people.app_context():
        _say(_user("old"), "a visible one")
        assert _say(_user("old"), "casino held").state == "held"
        archive = zipfile.ZipFile(io.BytesIO(b"".join(export_zip(Scope()))))
        comments = json.loads(archive.read("comments.json"))
        assert [c["body"] for c in comments] == ["a visible one"]

"""Readers' reports of posts, comments and profiles: filing (once per item,
with a reason, never one's own), the queue, and resolving them."""

import datetime as dt

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import AuditEntry
from flaskr.models import Comment
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import Report
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.governance import reports
from flaskr.services.social.reactions import add_comment
from tests.conftest import csrf_token_from
from tests.helpers import add_user
from tests.helpers import comments_link
from tests.helpers import logged_in

OLD = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _user(name):
    return db.session.scalars(sa.select(User).filter_by(username=name)).one()


@pytest.fixture
def site(app, password_hashes):
    """``test`` (admin, wrote post 1), an editor, ``other`` and a reader;
    a comment by ``other`` on post 1."""
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
        add_user("reader", role="reader", created=OLD)
        post = db.session.get(Post, 1)
        add_comment(
            post, _user("other"), "a rude comment", post_link=comments_link(post)
        )
    return app


def _comment_id():
    return db.session.scalar(sa.select(Comment.id))


def test_a_report_is_filed_once_per_reader_and_item(site):
    with site.app_context():
        filed = reports.report(_user("reader"), "post", 1, "  It is spam.  ")
        assert filed.reason == "It is spam."
        with pytest.raises(Invalid, match="already reported"):
            reports.report(_user("reader"), "post", 1, "Again")
        # Another reader may report it too; the same reader another item.
        reports.report(_user("other"), "post", 1, "Spam")
        reports.report(_user("reader"), "comment", _comment_id(), "Rude")
        reports.report(_user("reader"), "user", 2, "Rude person")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 4


@pytest.mark.parametrize(
    ("subject", "subject_id", "reason", "error", "match"),
    [
        ("post", 1, "", Invalid, "Say what is wrong"),
        ("post", 1, "x" * 1001, Invalid, "at most 1,000"),
        ("post", 999, "spam", Invalid, "nothing there"),
        ("poem", 1, "spam", Invalid, "a post, a comment or a profile"),
        ("user", 4, "spam", NotAllowed, "your own"),
    ],
)
def test_bad_reports_are_refused(site, subject, subject_id, reason, error, match):
    with site.app_context():
        with pytest.raises(error, match=match):
            reports.report(_user("reader"), subject, subject_id, reason)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_nobody_reports_their_own_writing(site):
    with site.app_context():
        with pytest.raises(NotAllowed):
            reports.report(_user("test"), "post", 1, "mine")
        with pytest.raises(NotAllowed):
            reports.report(_user("other"), "comment", _comment_id(), "mine")


def test_a_suspended_account_cannot_report(site):
    with site.app_context():
        reader = _user("reader")
        reader.state = "suspended"
        db.session.commit()
        with pytest.raises(NotAllowed):
            reports.report(reader, "post", 1, "spam")


def test_reports_go_to_moderators_only_and_mail_them(site):
    with site.app_context():
        reports.report(_user("reader"), "post", 1, "spam")
        assert reports.open_reports(_user("other")) == []
        [entry] = reports.open_reports(_user("editor"))
        assert entry.item.post.id == 1 and entry.reporter.username == "reader"
        deliver_due_events()
        mails = db.session.scalars(
            sa.select(OutboxMail.text_body).where(
                OutboxMail.subject.startswith("Waiting for moderation")
            )
        ).all()
        assert len(mails) == 2 and "1 open report waits" in mails[0]


def test_dismissing_resolves_every_report_of_the_item(site):
    with site.app_context():
        first = reports.report(_user("reader"), "post", 1, "spam")
        reports.report(_user("other"), "post", 1, "spam too")
        with pytest.raises(NotAllowed):
            reports.resolve_report(_user("reader"), first.id, "dismiss")
        assert (
            reports.resolve_report(_user("editor"), first.id, "dismiss") == "dismissed"
        )
        assert reports.open_reports(_user("editor")) == []
        with pytest.raises(Invalid, match="already resolved"):
            reports.resolve_report(_user("test"), first.id, "hide")
        assert db.session.get(Post, 1).published is not None
        action = db.session.scalars(sa.select(AuditEntry.action)).all()
        assert action == ["report_resolved"]


def test_hiding_a_comment_rejects_it(site):
    with site.app_context():
        filed = reports.report(_user("reader"), "comment", _comment_id(), "Rude")
        assert db.session.get(Post, 1).comment_count == 1
        done = reports.resolve_report(_user("editor"), filed.id, "hide")
        assert done == "comment rejected"
        db.session.expire_all()
        assert db.session.get(Comment, _comment_id()).state == "rejected"
        assert db.session.get(Post, 1).comment_count == 0


def test_hiding_a_post_unpublishes_it(site):
    with site.app_context():
        filed = reports.report(_user("reader"), "post", 1, "Spam")
        assert reports.resolve_report(_user("editor"), filed.id, "hide") == (
            "post unpublished"
        )
        db.session.expire_all()
        assert db.session.get(Post, 1).published is None
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
        assert actions == ["report_resolved", "post_unpublished_by_editor"]


def test_suspending_a_reported_account_needs_an_administrator(site):
    with site.app_context():
        filed = reports.report(_user("reader"), "user", 2, "Abusive")
        with pytest.raises(NotAllowed, match="administrator"):
            reports.resolve_report(_user("editor"), filed.id, "hide")
        db.session.expire_all()
        assert db.session.get(Report, filed.id).resolved is None
        done = reports.resolve_report(_user("test"), filed.id, "hide")
        assert done == "account suspended"
        db.session.expire_all()
        assert _user("other").state == "suspended"
        assert _user("other").state_reason == "Reported: Abusive"


def test_the_report_page_and_the_queue(site):
    client = logged_in(site, "other")
    page = client.get("/1", follow_redirects=True).get_data(as_text=True)
    assert "Report this post" in page
    assert client.get("/report/poem/1").status_code == 404
    assert client.get("/report/post/999").status_code == 404
    token = csrf_token_from(client, "/report/post/1")
    empty = client.post("/report/post/1", data={"reason": " ", "csrf_token": token})
    assert empty.status_code == 422
    assert "Say what is wrong" in empty.get_data(as_text=True)
    sent = client.post("/report/post/1", data={"reason": "Spam", "csrf_token": token})
    assert sent.status_code == 302
    twice = client.post("/report/post/1", data={"reason": "Spam", "csrf_token": token})
    assert twice.status_code == 422
    assert "already reported" in twice.get_data(as_text=True)
    mine = client.get("/report/comment/1")
    assert mine.status_code == 200  # the form; sending it is refused
    refused = client.post(
        "/report/comment/1", data={"reason": "x", "csrf_token": token}
    )
    assert refused.status_code == 403
    editor = logged_in(site, "editor", "test")
    queue = editor.get("/moderation").get_data(as_text=True)
    assert "Spam" in queue and "Unpublish the post" in queue
    assert "Suspend the account" not in queue
    with site.app_context():
        report_id = db.session.scalar(sa.select(Report.id))
    token = csrf_token_from(editor, "/moderation")
    resolved = editor.post(
        f"/moderation/reports/{report_id}",
        data={"resolution": "dismiss", "resolve-csrf_token": token},
        follow_redirects=True,
    )
    assert "The report is resolved: dismissed." in resolved.get_data(as_text=True)
    again = editor.post(
        f"/moderation/reports/{report_id}",
        data={"resolution": "dismiss", "resolve-csrf_token": token},
        follow_redirects=True,
    )
    assert "Another moderator already resolved" in again.get_data(as_text=True)


def test_profiles_and_comments_offer_the_report_link(site):
    client = logged_in(site, "test")
    page = client.get("/1", follow_redirects=True).get_data(as_text=True)
    # ``test`` wrote the post: no link to report it, nor comments on it.
    assert "Report this post" not in page
    profile = client.get("/u/other").get_data(as_text=True)
    assert "/report/user/2" in profile
    with site.app_context():
        add_user("third", role="author", created=OLD)
    reader = logged_in(site, "other")
    assert "/report/user/2" not in reader.get("/u/other").get_data(as_text=True)

"""The users page and its use cases: listing, approving, refusing, roles,
suspending, removing with everything (and the purge after ``TRASH_DAYS``),
the audit log and its place in the site's export."""

import datetime as dt
import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import Comment
from flaskr.models import Follow
from flaskr.models import Like
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.accounts.directory import find_user
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.content import writing
from flaskr.services.governance import members
from flaskr.services.governance import removal
from flaskr.services.portability.exports import export_zip
from flaskr.services.portability.exports import Scope
from flaskr.services.social import follows
from flaskr.services.social import reactions
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements
from tests.helpers import assert_counts_match_what_readers_see
from tests.helpers import logged_in
from tests.helpers import make_admin
from tests.helpers import moderator_client


def _user(name, *, state="active", role="author", email=None):
    user = User(name, "x")
    user.state, user.role = state, role
    if email:
        user.email = email
        user.email_key = email.casefold()
    db.session.add(user)
    db.session.commit()
    return user


def _writer_with_everything(app):
    """other: two posts (one a draft), a comment on test's post, a like and
    follows both ways."""
    make_admin(app, "test")
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        mine = writing.create_post(test, "Mine", "Text.", tags=["t"], publish=True)
        writing.create_post(other, "Theirs", "Text.", tags=["t"], publish=True)
        writing.create_post(other, "Their draft", "Text.", tags=[], publish=False)
        reactions.add_comment(mine, other, "Hello.", post_link="/")
        reactions.set_like(other, mine, liked=True)
        follows.follow(other, test)
        follows.follow(test, other)


# The use cases.


def test_only_moderators_list_members_and_editors_only_read(app):
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        with pytest.raises(NotAllowed):
            members.list_members(other)
        test.role = "editor"
        db.session.commit()
        found = members.list_members(test)
        assert {row.user.username for row in found.rows} == {"test", "other"}
        for decide in (
            lambda: members.change_role(test, other, "reader"),
            lambda: members.suspend(test, other, "Spam."),
        ):
            with pytest.raises(NotAllowed):
                decide()
        assert other.role == "author" and other.state == "active"


def test_list_members_searches_filters_and_puts_waiting_accounts_first(app):
    with app.app_context():
        make_admin(app, "test")
        test = find_user("test")
        _user("waiting", state="pending", email="wait@example.org")
        _user("reader_100%", role="reader")
        names = [row.user.username for row in members.list_members(test).rows]
        assert names[0] == "waiting"
        found = members.list_members(test, search="EXAMPLE.org")
        assert [row.user.username for row in found.rows] == ["waiting"]
        found = members.list_members(test, search="100%")
        assert [row.user.username for row in found.rows] == ["reader_100%"]
        assert members.list_members(test, search="d_r").total == 0  # _ is literal
        found = members.list_members(test, role="reader")
        assert [row.user.username for row in found.rows] == ["reader_100%"]
        assert members.list_members(test, state="suspended").total == 0
        with pytest.raises(Invalid) as refusal:
            members.list_members(test, role="king", state="asleep")
        assert set(refusal.value.problems) == {"role", "state"}
        with pytest.raises(Invalid) as refusal:
            members.list_members(test, search="a\x00b")
        assert set(refusal.value.problems) == {"search"}


def test_list_members_pages_and_counts_posts_and_comments(app):
    with app.app_context():
        make_admin(app, "test")
        test = find_user("test")
        for number in range(7):
            _user(f"member{number}")
        page = members.list_members(test, per_page=3, page=2)
        assert (page.total, page.page, page.pages, len(page.rows)) == (9, 2, 3, 3)
        last = members.list_members(test, per_page=3, page=99)
        assert last.page == 3
        counts = {
            row.user.username: row.posts for row in members.list_members(test).rows
        }
        assert counts["test"] == 1 and counts["member0"] == 0


def test_the_users_page_runs_the_same_statements_for_any_number_of_accounts(app):
    client = moderator_client(app)
    client.get("/admin/users")  # the session's last-seen hour is written once

    def statements() -> int:
        with recorded_statements(app) as ran:
            assert client.get("/admin/users").status_code == 200
        return len(ran)

    few = statements()
    with app.app_context():
        for number in range(30):
            user = _user(f"member{number}")
            db.session.add(Comment(post_id=1, author_id=user.id, body="Hi."))
        db.session.commit()
    assert statements() == few


def test_approve_lets_a_waiting_account_in_and_mails_it(app):
    with app.app_context():
        make_admin(app, "test")
        test = find_user("test")
        test.role = "editor"
        waiting = _user("waiting", state="pending", email="wait@example.org")
        members.approve(test, waiting)
        assert waiting.state == "active"
        mail = db.session.scalars(sa.select(OutboxMail)).one()
        assert mail.recipient == "wait@example.org"
        assert "approved" in mail.text_body
        with pytest.raises(Invalid):
            members.approve(test, waiting)
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.subject_name) == ("approved", "waiting")


def test_refuse_deletes_a_waiting_account_and_keeps_its_name_in_the_log(app):
    with app.app_context():
        make_admin(app, "test")
        test = find_user("test")
        waiting = _user("waiting", state="pending")
        with pytest.raises(Invalid):
            members.refuse(test, find_user("other"))
        members.refuse(test, waiting)
        assert find_user("waiting") is None
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.subject_name, entry.subject_user_id) == (
            "refused",
            "waiting",
            None,
        )


def test_change_role_never_leaves_the_site_without_an_active_admin(app):
    with app.app_context():
        make_admin(app, "test")
        test, other = find_user("test"), find_user("other")
        with pytest.raises(Invalid) as refusal:
            members.change_role(test, test, "editor")
        assert "active administrator" in str(refusal.value)
        with pytest.raises(Invalid):
            members.change_role(test, other, "emperor")
        members.change_role(test, other, "admin")
        members.change_role(test, test, "editor")
        assert (test.role, other.role) == ("editor", "admin")
        details = [entry.detail for entry in db.session.scalars(sa.select(AuditEntry))]
        assert details == ["author → admin", "admin → editor"]
        with pytest.raises(NotAllowed):
            members.change_role(test, other, "reader")


def test_suspension_mails_the_reason_and_lifting_restores(app):
    with app.app_context():
        make_admin(app, "test")
        test, other = find_user("test"), find_user("other")
        other.email, other.email_key = "other@example.org", "other@example.org"
        db.session.commit()
        with pytest.raises(Invalid) as refusal:
            members.suspend(test, other, "  ")
        assert "reason" in refusal.value.problems
        with pytest.raises(NotAllowed):
            members.suspend(test, test, "Me.")
        members.suspend(test, other, "Posting spam links.")
        mail = db.session.scalars(sa.select(OutboxMail)).one()
        assert "Posting spam links." in mail.text_body
        members.lift(test, other)
        assert other.state == "active" and other.state_reason == ""


# Removal with everything.


def test_removal_takes_everything_and_checks_the_counts_it_was_shown(app):
    _writer_with_everything(app)
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        counts = removal.removal_counts(other)
        assert (counts.posts, counts.comments) == (2, 1)
        with pytest.raises(Invalid) as refusal:
            removal.remove(test, other, "Spam.", expected_posts=1, expected_comments=1)
        assert "now has 2 posts and 1 comment" in str(refusal.value)
        assert other.state == "active"
        with pytest.raises(NotAllowed):
            removal.remove(test, test, "Me.", expected_posts=1, expected_comments=0)
        removal.remove(test, other, "Spam.", expected_posts=2, expected_comments=1)
        assert other.state == "removed"
        theirs = db.session.scalars(sa.select(Post).where(Post.author_id == other.id))
        assert all(post.deleted is not None for post in theirs)
        comment = db.session.scalars(
            sa.select(Comment).where(Comment.author_id == other.id)
        ).one()
        assert comment.withheld
        for column in (Like.user_id, Follow.follower_id):
            assert (
                db.session.scalar(sa.select(sa.func.count()).where(column == other.id))
                == 0
            )
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Follow.followed_id == other.id)
            )
            == 0
        )
        assert_counts_match_what_readers_see()
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "removed")
        ).one()
        assert "2 posts, 1 comment" in entry.detail


def test_a_suspended_account_can_be_removed_and_counts_stay_exact(app):
    _writer_with_everything(app)
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        members.suspend(test, other, "Spam.")
        removal.remove(test, other, "Spam.", expected_posts=2, expected_comments=1)
        assert_counts_match_what_readers_see()


def test_removed_accounts_are_purged_after_the_trash_days(app, runner):
    _writer_with_everything(app)
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        removal.remove(test, other, "Spam.", expected_posts=2, expected_comments=1)
        assert removal.purge_removed_accounts() == 0
        other.state_changed = utcnow() - dt.timedelta(days=31)
        db.session.execute(
            sa.update(Post)
            .where(Post.author_id == other.id)
            .values(deleted=utcnow() - dt.timedelta(days=31))
        )
        db.session.commit()
    result = runner.invoke(args=["purge-trash"])
    assert "Deleted 1 removed account for good." in result.output
    with app.app_context():
        assert find_user("other") is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEntry.subject_name == "other")
            )
            == 1
        )
        assert_counts_match_what_readers_see()


# The pages.


def _post_form(client, path, form_path, **data):
    token = csrf_token_from(client, form_path)
    return client.post(path, data={**data, "csrf_token": token})


def test_the_pages_refuse_visitors_writers_and_editors_where_they_must(app, client):
    assert client.get("/admin/users").status_code == 302
    writer = logged_in(app, "other")
    for path in ("/admin/users", "/admin/users/1", "/admin/audit"):
        assert writer.get(path).status_code == 403, path
    editor = moderator_client(app, "test", role="editor")
    assert editor.get("/admin/users").status_code == 200
    page = editor.get("/admin/users/2").get_data(as_text=True)
    assert "Suspend" not in page and "Change role" not in page
    assert editor.get("/admin/audit").status_code == 403
    assert editor.get("/admin/users/2/remove").status_code == 403
    assert editor.get("/admin/users/999").status_code == 404
    assert editor.get("/admin/users/99999999999999999999").status_code == 404


def test_an_administrator_suspends_lifts_and_changes_roles_by_form(app):
    admin = moderator_client(app)
    page = "/admin/users/2"
    refused = _post_form(
        admin, "/admin/users/2/suspend", page, **{"suspend-reason": ""}
    )
    assert refused.status_code == 422
    assert "Say why" in refused.get_data(as_text=True)
    done = _post_form(
        admin, "/admin/users/2/suspend", page, **{"suspend-reason": "Spam."}
    )
    assert done.status_code == 302
    assert "Suspended" in admin.get(page).get_data(as_text=True)
    assert _post_form(admin, "/admin/users/2/lift", page).status_code == 302
    assert (
        _post_form(
            admin, "/admin/users/2/role", page, **{"role-role": "reader"}
        ).status_code
        == 302
    )
    lonely = _post_form(
        admin, "/admin/users/1/role", "/admin/users/1", **{"role-role": "reader"}
    )
    assert lonely.status_code == 422
    assert "active administrator" in lonely.get_data(as_text=True)
    log = admin.get("/admin/audit").get_data(as_text=True)
    for action in ("suspended", "lifted", "role changed"):
        assert action in log
    assert admin.post("/admin/users/2/lift").status_code == 400  # no CSRF token


def test_the_removal_confirmation_names_the_counts_and_refuses_changed_ones(app):
    _writer_with_everything(app)
    admin = logged_in(app, "test")
    confirm = admin.get("/admin/users/2/remove").get_data(as_text=True)
    assert "2 posts" in confirm and "1 comment" in confirm
    with app.app_context():
        writing.create_post(find_user("other"), "Late", "Text.", tags=[], publish=True)
    changed = _post_form(
        admin,
        "/admin/users/2/remove",
        "/admin/users/2/remove",
        **{
            "remove-reason": "Spam.",
            "remove-expected_posts": "2",
            "remove-expected_comments": "1",
        },
    )
    assert changed.status_code == 422
    assert "now has 3 posts" in changed.get_data(as_text=True)
    done = _post_form(
        admin,
        "/admin/users/2/remove",
        "/admin/users/2/remove",
        **{
            "remove-reason": "Spam.",
            "remove-expected_posts": "3",
            "remove-expected_comments": "1",
        },
    )
    assert done.status_code == 302
    assert admin.get("/u/other").status_code == 404


def test_an_editor_approves_from_the_users_page(app):
    with app.app_context():
        _user("waiting", state="pending")
    editor = moderator_client(app, "test", role="editor")
    listed = editor.get("/admin/users").get_data(as_text=True)
    assert listed.index("waiting") < listed.index("other")
    response = _post_form(editor, "/admin/users/3/approve", "/admin/users", back="list")
    assert response.status_code == 302 and response.location.endswith("/admin/users")
    with app.app_context():
        assert find_user("waiting").state == "active"


def test_long_and_right_to_left_names_are_isolated_on_the_page(app):
    with app.app_context():
        user = _user("rtl")
        user.display_name = "مدير المحتوى " * 5
        db.session.commit()
    page = moderator_client(app).get("/admin/users").get_data(as_text=True)
    assert "<bdi>مدير المحتوى" in page


def test_last_seen_is_written_at_login_to_the_hour(app):
    logged_in(app, "other")
    with app.app_context():
        seen = find_user("other").last_seen
        assert seen is not None and seen.minute == seen.second == 0


# The export.


def test_the_site_export_carries_the_audit_log_and_a_writers_does_not(app):
    with app.app_context():
        make_admin(app, "test")
        members.suspend(find_user("test"), find_user("other"), "Spam.")
        site = zipfile.ZipFile(io.BytesIO(b"".join(export_zip(Scope()))))
        entries = json.loads(site.read("audit.json"))
        assert [
            (e["actor"], e["action"], e["subject"], e["detail"]) for e in entries
        ] == [("test", "suspended", "other", "Spam.")]
        assert json.loads(site.read("manifest.json"))["counts"]["audit"] == 1
        own = zipfile.ZipFile(io.BytesIO(b"".join(export_zip(Scope(writer_id=1)))))
        assert "audit.json" not in own.namelist()


def test_an_editor_turns_a_waiting_account_away_from_its_page(app):
    with app.app_context():
        _user("waiting", state="pending")
    editor = moderator_client(app, "test", role="editor")
    page = editor.get("/admin/users/3").get_data(as_text=True)
    assert "Turn away" in page and "Suspend" not in page
    response = _post_form(editor, "/admin/users/3/refuse", "/admin/users/3")
    assert response.status_code == 302 and response.location.endswith("/admin/users")
    assert editor.get("/admin/users/3").status_code == 404
    with app.app_context():
        assert find_user("waiting") is None


def test_a_removed_account_is_restored_with_its_writing_before_the_purge(app):
    _writer_with_everything(app)
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        earlier = writing.create_post(other, "Binned", "Text.", tags=[], publish=True)
        earlier.deleted = utcnow() - dt.timedelta(days=1)
        db.session.commit()
        removal.remove(test, other, "Spam.", expected_posts=2, expected_comments=1)
        with pytest.raises(NotAllowed):
            removal.restore(other, other)
    admin = logged_in(app, "test")
    assert "Restore the account" in admin.get("/admin/users/2").get_data(as_text=True)
    response = _post_form(admin, "/admin/users/2/restore", "/admin/users/2")
    assert response.status_code == 302
    with app.app_context():
        other = find_user("other")
        assert other.state == "active"
        titles = set(
            db.session.scalars(
                sa.select(Post.title).where(
                    Post.author_id == other.id, Post.deleted.is_(None)
                )
            )
        )
        assert titles == {"Theirs", "Their draft"}
        assert (
            not db.session.scalars(
                sa.select(Comment).where(Comment.author_id == other.id)
            )
            .one()
            .withheld
        )
        assert_counts_match_what_readers_see()
        with pytest.raises(Invalid):
            removal.restore(find_user("test"), other)
    assert admin.get("/u/other").status_code == 200

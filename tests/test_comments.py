"""Comments with light Markdown, edited by their authors, and mail to the
post's writer about new ones."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import User
from tests.conftest import csrf_token_from
from tests.helpers import comment
from tests.helpers import logged_in


def comment_row(app, comment_id):
    with app.app_context():
        found = db.session.get(Comment, comment_id)
        db.session.expunge(found)
        return found


def newest_comment(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Comment.id)))


def edit(client, comment_id, body):
    path = f"/comments/{comment_id}/edit"
    token = csrf_token_from(client, path)
    return client.post(path, data={"body": body, "csrf_token": token})


def test_comments_take_light_markdown(app):
    comment(
        logged_in(app, "other"),
        "So *good*, see `x = 1` and https://example.org/a\n"
        "<script>alert(1)</script> [x](javascript:alert(1)) # no heading",
    )
    page = app.test_client().get("/1").get_data(as_text=True)
    assert "So <em>good</em>, see <code>x = 1</code> and" in page
    assert (
        '<a href="https://example.org/a" rel="nofollow ugc noopener noreferrer">'
        in page
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page
    assert "<h" + "2>no heading" not in page


def test_a_comment_is_edited_by_its_author_and_shown_as_edited(app):
    author = logged_in(app, "other")
    comment(author, "Frist!")
    comment_id = newest_comment(app)
    form = author.get(f"/comments/{comment_id}/edit").get_data(as_text=True)
    assert "Frist!</textarea>" in form
    response = edit(author, comment_id, "First, *actually*.")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/1#comment-{comment_id}"
    edited = comment_row(app, comment_id)
    assert edited.body == "First, *actually*."
    assert edited.edited is not None
    page = app.test_client().get("/1").get_data(as_text=True)
    assert "First, <em>actually</em>." in page
    assert ">edited</span>" in page
    assert "Frist!" not in page


def test_nobody_else_edits_a_comment(app):
    comment(logged_in(app, "other"), "Mine")
    comment_id = newest_comment(app)
    post_author = logged_in(app, "test", "test")
    assert post_author.get(f"/comments/{comment_id}/edit").status_code == 403
    token = csrf_token_from(post_author, "/1")
    response = post_author.post(
        f"/comments/{comment_id}/edit", data={"body": "Theirs", "csrf_token": token}
    )
    assert response.status_code == 403
    visitor = app.test_client().get(f"/comments/{comment_id}/edit")
    assert visitor.status_code == 302
    assert logged_in(app, "other").get("/comments/999/edit").status_code == 404
    assert comment_row(app, comment_id).body == "Mine"


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Comment is required."), ("x" * 5001, "at most 5,000"), ("\x00", "NUL")],
)
def test_a_bad_edit_changes_nothing(app, body, message):
    author = logged_in(app, "other")
    comment(author, "Kept")
    comment_id = newest_comment(app)
    response = edit(author, comment_id, body)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    kept = comment_row(app, comment_id)
    assert (kept.body, kept.edited) == ("Kept", None)


def test_an_edit_without_a_token_is_refused(app):
    author = logged_in(app, "other")
    comment(author, "Kept")
    comment_id = newest_comment(app)
    response = author.post(f"/comments/{comment_id}/edit", data={"body": "Changed"})
    assert response.status_code == 400
    assert comment_row(app, comment_id).body == "Kept"


# Mail to the post's writer.


@pytest.fixture
def mail_site(app_with, smtp_port):
    app = app_with(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, SITE_URL="https://flaskr.example"
    )
    with app.app_context():
        writer = db.session.scalars(sa.select(User).filter_by(username="test")).one()
        writer.email, writer.email_key = "writer@example.org", "writer@example.org"
        db.session.commit()
    return app


def test_the_writer_is_mailed_about_a_new_comment(mail_site, smtp):
    comment(logged_in(mail_site, "other"), "Lovely *post*.").close()
    [mail] = smtp.inbox.messages
    assert mail["To"] == "writer@example.org"
    assert mail["Subject"] == "other commented on “test title”"
    text = mail.get_body(("plain",)).get_content()
    assert "Lovely *post*." in text
    assert "https://flaskr.example/1#comments" in text


def test_no_mail_for_ones_own_comment_or_when_turned_off(mail_site, smtp):
    writer = logged_in(mail_site, "test", "test")
    comment(writer, "Thanks all.").close()
    assert smtp.inbox.messages == []
    token = csrf_token_from(writer, "/auth/account")
    response = writer.post(
        "/auth/account/comment-mail", data={"comment_mail-csrf_token": token}
    )
    assert response.status_code == 302
    assert 'name="comment_mail-wanted" type="checkbox" value="y">' in writer.get(
        "/auth/account"
    ).get_data(as_text=True)
    comment(logged_in(mail_site, "other"), "Hello?").close()
    assert smtp.inbox.messages == []
    writer.post(
        "/auth/account/comment-mail",
        data={"comment_mail-csrf_token": token, "comment_mail-wanted": "y"},
    )
    comment(logged_in(mail_site, "other"), "Hello again").close()
    assert len(smtp.inbox.messages) == 1


def test_no_mail_without_a_confirmed_address(app_with, smtp_port, smtp):
    app = app_with(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    comment(logged_in(app, "other"), "Anyone there?").close()
    assert smtp.inbox.messages == []

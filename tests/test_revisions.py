"""A post's revisions: kept at each save, compared, restored; only for its
writer."""

from __future__ import annotations

import re

from flaskr.db import db
from flaskr.models import Post
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.helpers import newest
from tests.helpers import post_row
from tests.helpers import revisions
from tests.helpers import write_in_editor

RESTORE_FORM = re.compile(
    r'action="(/\d+/revisions/(\d+)/restore)">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">\s*'
    r'<input type="hidden" name="version" value="(\d+)">'
)


def save_three_times(app, author):
    write_in_editor(author, title="One", body="first line\nsecond line")
    post_id = newest(app)
    write_in_editor(
        author,
        f"/{post_id}/update",
        action="save",
        title="Two",
        body="first line\nsecond line changed",
    )
    write_in_editor(
        author,
        f"/{post_id}/update",
        action="save",
        title="Three",
        body="first line\nsecond line changed\nthird line",
        tags="added",
    )
    return post_id


def test_each_save_keeps_a_revision(app, author):
    post_id = save_three_times(app, author)
    assert [title for _, title, _ in revisions(app, post_id)] == ["One", "Two", "Three"]


def test_the_history_compares_the_last_two_saves(app, author):
    post_id = save_three_times(app, author)
    page = author.get(f"/{post_id}/history").get_data(as_text=True)
    assert '<del dir="auto">Two</del> → <ins dir="auto">Three</ins>' in page
    assert '<del dir="auto">(none)</del> → <ins dir="auto">added</ins>' in page
    added = '<span class="visually-hidden" dir="ltr">Added: </span>'
    added += "<ins>third line</ins>"
    assert f'<li class="added" dir="auto">{added}</li>' in page
    assert '<li class="same" dir="auto">first line</li>' in page


def test_any_two_revisions_can_be_compared(app, author):
    post_id = save_three_times(app, author)
    first, _, third = (row.id for row in revisions(app, post_id))
    page = author.get(f"/{post_id}/history?older={first}&newer={third}").get_data(True)
    assert '<del dir="auto">One</del> → <ins dir="auto">Three</ins>' in page
    # The line changed in place: its one new word is marked, not the line.
    assert "Removed: </span>second line</li>" in page
    assert "Added: </span>second line<ins> changed</ins></li>" in page
    same = author.get(f"/{post_id}/history?older={first}&newer={first}").get_data(True)
    assert "Nothing changed between these two." in same


def test_restoring_is_a_new_revision(app, author):
    post_id = save_three_times(app, author)
    page = author.get(f"/{post_id}/history").get_data(as_text=True)
    forms = {
        int(rev): (action, token, version)
        for action, rev, token, version in RESTORE_FORM.findall(page)
    }
    first_id = revisions(app, post_id)[0].id
    action, token, version = forms[first_id]
    response = author.post(action, data={"csrf_token": token, "version": version})
    assert response.status_code == 302
    post = post_row(app, post_id)
    assert (post.title, post.body) == ("One", "first line\nsecond line")
    assert post.tag_names == []
    titles = [title for _, title, _ in revisions(app, post_id)]
    assert titles == ["One", "Two", "Three", "One"]
    assert "Restored the revision of" in author.get(f"/{post_id}/history").get_data(
        True
    )


def test_a_restore_from_a_stale_history_page_is_refused(app, author):
    post_id = save_three_times(app, author)
    page = author.get(f"/{post_id}/history").get_data(as_text=True)
    action, _, token, version = RESTORE_FORM.findall(page)[-1]
    write_in_editor(author, f"/{post_id}/update", action="save", title="Four", body="x")
    response = author.post(action, data={"csrf_token": token, "version": version})
    assert response.status_code == 409
    assert "This post changed since you opened it" in response.get_data(True)
    assert post_row(app, post_id).title == "Four"


def test_only_the_writer_sees_or_restores(app, author):
    post_id = save_three_times(app, author)
    first_id = revisions(app, post_id)[0].id
    other = app.test_client()
    AuthActions(other).login("other", "other")
    assert other.get(f"/{post_id}/history").status_code == 403
    token = csrf_token_from(other, "/")
    response = other.post(
        f"/{post_id}/revisions/{first_id}/restore", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert app.test_client().get(f"/{post_id}/history").status_code == 302
    assert post_row(app, post_id).title == "Three"


def test_revisions_of_another_post_are_404(app, author):
    post_id = save_three_times(app, author)
    write_in_editor(author, title="Elsewhere")
    elsewhere = newest(app)
    foreign = revisions(app, post_id)[0].id
    assert (
        author.get(f"/{elsewhere}/history?older={foreign}&newer={foreign}").status_code
        == 404
    )
    token = csrf_token_from(author, "/")
    response = author.post(
        f"/{elsewhere}/revisions/{foreign}/restore", data={"csrf_token": token}
    )
    assert response.status_code == 404
    for query in ("older=x", "older=0&newer=1", "newer=99999999999999999999"):
        assert author.get(f"/{post_id}/history?{query}").status_code in (400, 404)


def test_only_the_last_revisions_are_kept(app_with):
    app = app_with(REVISIONS_KEPT=3)
    client = app.test_client()
    AuthActions(client).login()
    write_in_editor(client, title="v0")
    post_id = newest(app)
    for number in range(1, 6):
        write_in_editor(client, f"/{post_id}/update", action="save", title=f"v{number}")
    assert [title for _, title, _ in revisions(app, post_id)] == ["v3", "v4", "v5"]


def test_a_post_from_before_revisions_keeps_its_old_state_first(app, author):
    """The test data's post 1 was saved before revisions were kept."""
    assert revisions(app, 1) == []
    write_in_editor(author, "/1/update", action="save", title="Edited", body="new body")
    [(_, old_title, _), (_, new_title, _)] = revisions(app, 1)
    assert (old_title, new_title) == ("test title", "Edited")


def test_deleting_a_post_forever_deletes_its_revisions(app, author):
    post_id = save_three_times(app, author)
    with app.app_context():
        db.session.delete(db.session.get(Post, post_id))
        db.session.commit()
    assert revisions(app, post_id) == []

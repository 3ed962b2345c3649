"""What the editor's script asks of the server: the live preview and the
autosave of drafts (JSON)."""

from __future__ import annotations

from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.test_publishing import newest
from tests.test_publishing import post_row
from tests.test_publishing import write
from tests.test_revisions import revisions


def preview(client, body, token=None):
    token = token or csrf_token_from(client, "/create")
    return client.post("/preview", data={"body": body}, headers={"X-CSRFToken": token})


def test_the_live_preview_is_the_saved_rendering(app, author):
    response = preview(author, "Some **bold** words\n\n| a |\n|--|\n| 1 |")
    assert response.status_code == 200
    answer = response.get_json()
    assert "<strong>bold</strong>" in answer["html"]
    assert "<table>" in answer["html"]
    assert (answer["words"], answer["minutes"]) == (5, 1)
    long = preview(author, "word " * 1000).get_json()
    assert (long["words"], long["minutes"]) == (1000, 4)


def test_the_preview_needs_a_login_a_token_and_a_body_in_bounds(app, author):
    assert app.test_client().post("/preview", data={"body": "x"}).status_code in (
        302,
        400,
    )
    assert author.post("/preview", data={"body": "x"}).status_code == 400
    response = preview(author, "x" * 100_001)
    assert response.status_code == 422
    assert "at most 100,000 characters" in response.get_json()["error"]
    assert preview(author, "\x00").status_code == 422


def autosave(client, post_id, version, **fields):
    data = {
        "title": "Draft title",
        "body": "typed so far",
        "tags": "",
        "summary": "",
        "version": str(version),
        **fields,
    }
    token = csrf_token_from(client, f"/{post_id}/update")
    return client.post(f"/{post_id}/autosave", data={**data, "csrf_token": token})


def test_a_draft_is_saved_as_its_writer_types(app, author):
    write(author, title="Draft title", body="first words", action="draft")
    post_id = newest(app)
    before = len(revisions(app, post_id))
    response = autosave(author, post_id, 1, body="first words and more")
    assert response.status_code == 200
    assert response.get_json() == {"version": 2}
    post = post_row(app, post_id)
    assert (post.body, post.version, post.published) == (
        "first words and more",
        2,
        None,
    )
    assert len(revisions(app, post_id)) == before  # the next save keeps one
    # A save from the form after autosaves goes through with the new version.
    response = write(
        author,
        f"/{post_id}/update",
        action="draft",
        title="Draft title",
        body="first words and more, saved",
        version="2",
    )
    assert response.status_code == 302
    assert revisions(app, post_id)[-1].body == "first words and more, saved"


def test_an_autosave_from_an_older_version_is_refused(app, author):
    write(author, title="Draft title", action="draft")
    post_id = newest(app)
    autosave(author, post_id, 1, body="tab one")
    response = autosave(author, post_id, 1, body="tab two")
    assert response.status_code == 409
    assert "changed since you opened it" in response.get_json()["error"]
    assert post_row(app, post_id).body == "tab one"


def test_bad_autosaves_change_nothing(app, author):
    write(author, title="Draft title", body="kept", action="draft")
    post_id = newest(app)
    response = autosave(author, post_id, 1, title="")
    assert response.status_code == 422
    assert response.get_json()["error"] == "Not saved: Title is required."
    assert autosave(author, post_id, "", body="x").status_code == 422
    assert autosave(author, post_id, "x", body="x").status_code == 400
    assert post_row(app, post_id).body == "kept"
    write(author, title="Out", action="publish")
    published = newest(app)
    response = autosave(author, published, 1)
    assert response.status_code == 409
    assert post_row(app, published).body != "typed so far"


def test_only_the_writer_autosaves(app, author):
    write(author, title="Draft title", body="kept", action="draft")
    post_id = newest(app)
    other = app.test_client()
    AuthActions(other).login("other", "other")
    token = csrf_token_from(other, "/create")
    response = other.post(
        f"/{post_id}/autosave",
        data={"title": "x", "body": "x", "version": "1", "csrf_token": token},
    )
    assert response.status_code == 403
    assert post_row(app, post_id).body == "kept"


def test_the_form_names_its_script_and_urls(app, author):
    page = author.get("/create").get_data(as_text=True)
    assert '<script src="/static/editor.js" defer></script>' in page
    assert 'data-preview-url="/preview"' in page
    assert "data-autosave-url" not in page
    write(author, title="Draft title", action="draft")
    page = author.get(f"/{newest(app)}/update").get_data(as_text=True)
    assert f'data-autosave-url="/{newest(app)}/autosave"' in page


def test_autosaves_collapse_into_one_revision_per_editing_session(app, author):
    import datetime as dt

    import time_machine

    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        write(author, title="Draft title", body="v1", action="draft")
        post_id = newest(app)
        assert [r.body for r in revisions(app, post_id)] == ["v1"]
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        autosave(author, post_id, 1, body="v1, typed on")
        autosave(author, post_id, 2, body="v1, typed on and on")
    assert [r.body for r in revisions(app, post_id)] == ["v1"]
    # The next day: the first autosave keeps what yesterday's session left.
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        autosave(author, post_id, 3, body="today's words")
        autosave(author, post_id, 4, body="today's words, more")
    bodies = [r.body for r in revisions(app, post_id)]
    assert bodies == ["v1", "v1, typed on and on"]
    assert post_row(app, post_id).body == "today's words, more"

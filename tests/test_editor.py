"""What the editor's script asks of the server: the live preview and the
autosave of drafts (JSON)."""

from __future__ import annotations

from flaskr.models import TITLE_MAX_LENGTH
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.helpers import count_posts
from tests.helpers import newest
from tests.helpers import post_files
from tests.helpers import post_row
from tests.helpers import revisions
from tests.helpers import write_in_editor


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
    write_in_editor(author, title="Draft title", body="first words", action="draft")
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
    response = write_in_editor(
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
    write_in_editor(author, title="Draft title", action="draft")
    post_id = newest(app)
    autosave(author, post_id, 1, body="tab one")
    response = autosave(author, post_id, 1, body="tab two")
    assert response.status_code == 409
    assert "changed since you opened it" in response.get_json()["error"]
    assert post_row(app, post_id).body == "tab one"


def test_bad_autosaves_change_nothing(app, author):
    write_in_editor(author, title="Draft title", body="kept", action="draft")
    post_id = newest(app)
    response = autosave(author, post_id, 1, title="x" * (TITLE_MAX_LENGTH + 1))
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        f"Not saved: Title must be at most {TITLE_MAX_LENGTH} characters long."
    )
    assert autosave(author, post_id, "", body="x").status_code == 422
    assert autosave(author, post_id, "x", body="x").status_code == 400
    assert post_row(app, post_id).body == "kept"
    write_in_editor(author, title="Out", action="publish")
    published = newest(app)
    response = autosave(author, published, 1)
    assert response.status_code == 409
    assert post_row(app, published).body != "typed so far"


def test_only_the_writer_autosaves(app, author):
    write_in_editor(author, title="Draft title", body="kept", action="draft")
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
    write_in_editor(author, title="Draft title", action="draft")
    page = author.get(f"/{newest(app)}/update").get_data(as_text=True)
    assert f'data-autosave-url="/{newest(app)}/autosave"' in page


def test_autosaves_collapse_into_one_revision_per_editing_session(app, author):
    import datetime as dt

    import time_machine

    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        write_in_editor(author, title="Draft title", body="v1", action="draft")
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


def test_words_typed_before_a_title_are_saved_untitled(app, author):
    write_in_editor(author, title="Draft title", body="kept", action="draft")
    post_id = newest(app)
    response = autosave(author, post_id, 1, title="", body="words first")
    assert response.status_code == 200
    post = post_row(app, post_id)
    assert (post.title, post.body) == ("Untitled", "words first")


# The editor's page: the window's width, its parts, and what the server does
# for a new post's form (autosave, a form sent twice, limits said in the form).

import io  # noqa: E402
import re  # noqa: E402

FORM_TOKEN = re.compile(r'name="form_token" type="hidden" value="([^"]+)"')


def open_new_post(client):
    """The CSRF and form tokens of a newly opened new-post form."""
    page = client.get("/create").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    token = FORM_TOKEN.search(page)
    assert csrf and token, "the form carries both tokens"
    return csrf.group(1), token.group(1)


def test_the_editor_uses_the_window_and_keeps_settings_folded(app, author):
    page = author.get("/create").get_data(as_text=True)
    assert re.search(r'<main [^>]*class="wide"', page)
    assert '<details class="post-settings">' in page
    bar = page.index('class="editor-bar"')
    # The bar's first button is the safe one (Enter in a one-line field).
    first_button = re.search(r"<button[^>]*>", page[bar:]).group(0)
    assert 'value="draft"' in first_button
    assert page.index('name="title"') > bar
    assert page.index('name="tags"') > page.index("<summary>Post settings")
    assert "Your pictures</a> (opens a new tab)" not in page
    assert "maxlength=" not in re.search(r'<input[^>]*name="title"[^>]*>', page)[0]
    # A writer with no time zone yet: the script starts with the browser's.
    assert "data-zone-unset" in page


def test_a_preview_without_the_script_is_drawn_beside_the_text(app, author):
    before = count_posts(app)
    csrf, token = open_new_post(author)
    response = post_files(
        author,
        "/create",
        {
            "title": "Seen first",
            "body": "Some **bold** words",
            "action": "preview",
            "csrf_token": csrf,
            "form_token": token,
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    pane = re.search(r'<section class="preview-pane"[^>]*>', page)[0]
    assert "hidden" not in pane
    # In the published post's classes, inside the form's panes, not after it.
    assert page.index(pane) < page.index("</form>", page.index("editor-form"))
    assert '<article class="post-full">' in page[page.index(pane) :]
    assert "<strong>bold</strong>" in page
    assert 'class="editor-panes previewing"' in page
    assert count_posts(app) == before


def test_an_error_in_the_settings_opens_them_and_is_listed_on_top(app, author):
    response = write_in_editor(author, title="Tagged", tags="good, !!!, fine")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<details class="post-settings" open>' in page
    message = "“!!!” has no letters or digits, so it cannot be a tag."
    assert message in page
    assert page.index('class="error form-error editor-errors"') < page.index(
        'name="title"'
    )
    assert 'value="good, !!!, fine"' in page


def test_a_title_too_long_is_said_not_cut(app, author):
    long_title = "t" * (TITLE_MAX_LENGTH + 5)
    response = write_in_editor(author, title=long_title)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Title must be at most {TITLE_MAX_LENGTH} characters long." in page
    assert f'value="{long_title}"' in page


def test_sending_the_same_new_post_form_twice_makes_one_post(app, author):
    before = count_posts(app)
    csrf, token = open_new_post(author)
    fields = {"title": "Once", "body": "only once", "csrf_token": csrf}
    first = author.post(
        "/create", data={**fields, "action": "publish", "form_token": token}
    )
    assert first.status_code == 302
    post_id = newest(app)
    # Back, a change, Publish again: the first post is edited.
    again = author.post(
        "/create",
        data={
            **fields,
            "body": "only once, edited",
            "action": "publish",
            "form_token": token,
        },
    )
    assert again.status_code == 302
    # To the first post's one address.
    assert again.location.endswith(f"/p/{post_row(app, post_id).slug}")
    assert count_posts(app) == before + 1
    assert post_row(app, post_id).body == "only once, edited"
    # Another opened form is another post; a form without a token (a script,
    # the tutorial's tests) publishes as before.
    _, other_token = open_new_post(author)
    assert other_token != token
    author.post(
        "/create", data={**fields, "action": "publish", "form_token": other_token}
    )
    author.post("/create", data={**fields, "action": "publish"})
    assert count_posts(app) == before + 3


def autosave_new(client, csrf, token, **fields):
    data = {"title": "", "body": "", "tags": "", "summary": "", **fields}
    return client.post(
        "/create/autosave",
        data={**data, "csrf_token": csrf, "form_token": token},
        headers={"Accept": "application/json"},
    )


def test_a_new_post_becomes_a_draft_from_its_first_words(app, author):
    before = count_posts(app)
    csrf, token = open_new_post(author)
    response = autosave_new(author, csrf, token, body="First words")
    assert response.status_code == 201
    answer = response.get_json()
    post_id = answer["id"]
    assert answer == {
        "id": post_id,
        "version": 1,
        "update_url": f"/{post_id}/update",
        "autosave_url": f"/{post_id}/autosave",
    }
    draft = post_row(app, post_id)
    assert (draft.title, draft.body, draft.published) == (
        "Untitled",
        "First words",
        None,
    )
    # The same form again saves into that draft, never a second one.
    again = autosave_new(author, csrf, token, title="Named", body="First words, more")
    assert again.status_code == 201
    assert again.get_json()["id"] == post_id
    assert post_row(app, post_id).title == "Named"
    assert post_row(app, post_id).slug == "named"  # a draft's follows its title
    # Publish from the form (a script that did not switch it yet): that draft.
    published = author.post(
        "/create",
        data={
            "title": "Named",
            "body": "The whole text",
            "action": "publish",
            "csrf_token": csrf,
            "form_token": token,
        },
    )
    assert published.location.endswith("/p/named")
    assert post_row(app, post_id).published is not None
    assert count_posts(app) == before + 1


def test_a_new_post_autosave_needs_its_form_token_and_csrf(app, author):
    csrf, _ = open_new_post(author)
    response = autosave_new(author, csrf, "not-a-token", body="x")
    assert response.status_code == 422
    assert "reload the page" in response.get_json()["error"]
    _, token = open_new_post(author)
    refused = author.post("/create/autosave", data={"body": "x", "form_token": token})
    assert refused.status_code == 400
    stranger = app.test_client().post(
        "/create/autosave", data={"body": "x", "form_token": token}
    )
    assert stranger.status_code in (302, 400)


def test_every_picture_input_names_its_limit(app, author):
    from tests.helpers import make_admin

    make_admin(app)
    for path in ("/create", "/images", "/auth/account", "/admin"):
        page = author.get(path).get_data(as_text=True)
        inputs = re.findall(r'<input accept="image[^>]*type="file"[^>]*>', page)
        assert inputs, path
        assert all('data-max-bytes="5000000"' in i for i in inputs), path


TWENTY_MB = 20 * 1000 * 1000


def test_a_cover_over_the_limit_comes_back_with_everything_typed(app, author):
    csrf, token = open_new_post(author)
    response = post_files(
        author,
        "/create",
        {
            "title": "Kept title",
            "body": "Every word kept",
            "tags": "kept-tag",
            "summary": "A kept summary",
            "action": "publish",
            "csrf_token": csrf,
            "form_token": token,
            "image_file": (io.BytesIO(b"\xff" * TWENTY_MB), "huge.jpg"),
            "image_alt": "A huge picture",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This picture is 20 MB; the limit is 5 MB." in page
    for kept in (
        "Kept title",
        "Every word kept",
        "kept-tag",
        "A kept summary",
        "A huge picture",
    ):
        assert kept in page
    assert '<details class="post-settings" open>' in page


def test_an_avatar_and_an_icon_over_the_limit_answer_their_form(app, author):
    from tests.helpers import make_admin

    make_admin(app)
    token = csrf_token_from(author, "/auth/account")
    response = post_files(
        author,
        "/auth/account/avatar",
        {
            "avatar-csrf_token": token,
            "avatar-picture": (io.BytesIO(b"\xff" * TWENTY_MB), "me.jpg"),
        },
    )
    assert response.status_code == 422
    assert "This picture is 20 MB; the limit is 5 MB." in response.get_data(
        as_text=True
    )
    token = csrf_token_from(author, "/admin")
    response = post_files(
        author,
        "/admin/icon",
        {
            "icon-csrf_token": token,
            "icon-picture": (io.BytesIO(b"\xff" * 7_300_000), "logo.png"),
        },
    )
    assert response.status_code == 422
    assert "This picture is 7.3 MB; the limit is 5 MB." in response.get_data(
        as_text=True
    )


def test_a_request_too_large_to_read_says_what_to_do(app_with):
    app = app_with(OVERSIZED_PICTURE_READ_BYTES=2_000_000)
    client = app.test_client()
    AuthActions(client).login()
    csrf, token = open_new_post(client)
    response = post_files(
        client,
        "/create",
        {
            "title": "x",
            "body": "y",
            "csrf_token": csrf,
            "image_file": (io.BytesIO(b"\xff" * 9_000_000), "huge.jpg"),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert re.search(r"What you sent is 9\.\d MB: too large to read\.", page)
    assert "your text is still in the form" in page

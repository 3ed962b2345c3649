"""Roles everywhere: what each role (and an account that is not active) may
do with posts, on the pages and in the JSON API, decided in the services
(services/content/editorial.py over services/base/roles.py)."""

import io

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import AuditEntry
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.sessions import start_api_session
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.images import process_upload
from flaskr.services.content import editorial
from flaskr.services.content import held_images
from flaskr.services.content import lifecycle
from flaskr.services.content import media
from flaskr.services.content import revisions
from flaskr.services.content import writing
from flaskr.services.portability.imports import import_own_zip
from tests.conftest import csrf_token_from
from tests.helpers import database_rows
from tests.helpers import HOSTILE
from tests.helpers import logged_in
from tests.helpers import png

#: Who asks: a user of each role, and two writers whose accounts are not
#: active (their role would let them write).
ACTORS = ("admin", "editor", "author", "contributor", "reader", "suspended", "pending")
MODERATORS = {"admin", "editor"}
WRITERS = {"admin", "editor", "author", "contributor"}


#: A suspended account's session or token is refused before any use case is
#: asked (``web/users.py``): on the pages as a visitor's, sent to log in
#: where a writer would be refused, in the API as no token (401).
AS_VISITOR = {403: {302}, 404: {404}}
AS_VISITOR_IN_API = {403: {401}, 404: {401}}


def _expect(allowed: set[str], yes: int, no: int) -> dict[str, set[int]]:
    """The status each actor gets: ``yes`` for the ``allowed``, ``no`` for
    the others (a suspended account: ``no``, or refused as a visitor)."""
    found = {
        actor: {yes} if actor in allowed else AS_VISITOR[no]
        if actor == "suspended" else {no}
        for actor in ACTORS
    }  # fmt: skip
    # A waiting account is sent to the waiting page from every page.
    found["pending"] = {302}
    return found


def _expect_in_api(allowed: set[str], yes: int, no: int) -> dict[str, set[int]]:
    found = _expect(allowed, yes, no)
    found["suspended"] = AS_VISITOR_IN_API[no]
    found["pending"] = {no}
    return found


def _make_site(app, password_hashes):
    """An account per actor (named as its role, password "test"), and a
    published post and a draft by "other", an author."""
    with app.app_context():
        for name in ACTORS:
            user = User(f"{name}1", password_hashes["test"])
            user.role = name if name not in ("suspended", "pending") else "author"
            db.session.add(user)
        db.session.commit()
        other = find_user("other")
        theirs = writing.create_post(
            other, "Their post", "Published.", tags=[], publish=True
        )
        draft = writing.create_post(
            other, "Their draft", "Not yet.", tags=[], publish=False
        )
        return {
            "post": theirs.id,
            "post_slug": theirs.slug,
            "draft": draft.id,
            "draft_slug": draft.slug,
        }


def _set_state(app, name):
    """Put the account in its state without ending its sessions and tokens:
    the use cases themselves must refuse it."""
    if name in ("suspended", "pending"):
        with app.app_context():
            db.session.execute(
                sa.update(User).where(User.username == f"{name}1").values(state=name)
            )
            db.session.commit()


@pytest.fixture
def site(app, password_hashes):
    return _make_site(app, password_hashes)


def _browser(app, actor):
    client = logged_in(app, f"{actor}1", "test")
    _set_state(app, actor)
    return client


def _token(app, actor):
    with app.app_context():
        token = start_api_session(find_user(f"{actor}1").id, "tests")
    _set_state(app, actor)
    return {"Authorization": f"Token {token}"}


def _post_button(client, path, page, prefix=""):
    """POST a one-button form found on ``page`` (its CSRF token)."""
    token = csrf_token_from(client, page)
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(path, data={name: token})


def _save(client, path, action="publish", **fields):
    """Send the editor's whole form to ``path``, with a CSRF token from a page
    every logged-in account opens (the editor may be refused)."""
    data = {
        "title": "A title",
        "body": "The body of the post, which is long enough to show.",
        "tags": "",
        "summary": "",
        "slug": "",
        "action": action,
        **fields,
        "csrf_token": csrf_token_from(client, "/auth/account"),
    }
    return client.post(path, data=data)


PAGE_ACTIONS = {
    "open the new-post form": (
        lambda c, s: c.get("/create"),
        _expect(WRITERS, 200, 403),
    ),
    "publish a new post": (
        lambda c, s: _save(c, "/create"),
        _expect(WRITERS, 302, 403),
    ),
    "preview as one types": (
        lambda c, s: c.post(
            "/preview",
            data={"body": "*hi*", "csrf_token": csrf_token_from(c, "/auth/account")},
        ),
        _expect(WRITERS, 200, 403),
    ),
    "open someone else's post in the editor": (
        lambda c, s: c.get(f"/{s['post']}/update"),
        _expect(MODERATORS, 200, 403),
    ),
    "save someone else's post": (
        lambda c, s: _save(c, f"/{s['post']}/update", action="save"),
        _expect(MODERATORS, 302, 403),
    ),
    "open someone else's draft in the editor": (
        lambda c, s: c.get(f"/{s['draft']}/update"),
        _expect(MODERATORS, 200, 403),
    ),
    "read someone else's draft": (
        lambda c, s: c.get(f"/{s['draft']}"),
        # A draft reads at its address (a redirect to /p/<slug>) for editors.
        _expect(MODERATORS, 301, 404),
    ),
    "unpublish someone else's post": (
        lambda c, s: _post_button(
            c, f"/{s['post']}/unpublish", "/auth/account", prefix="unpublish"
        ),
        _expect(MODERATORS, 302, 403),
    ),
    "move someone else's post to the trash": (
        lambda c, s: _post_button(c, f"/{s['post']}/delete", "/auth/account"),
        _expect(MODERATORS, 302, 403),
    ),
    "see someone else's history": (
        lambda c, s: c.get(f"/{s['post']}/history"),
        _expect(MODERATORS, 200, 403),
    ),
    "open the picture library": (
        lambda c, s: c.get("/images"),
        _expect(WRITERS, 200, 403),
    ),
    "open the review page": (
        lambda c, s: c.get("/review"),
        _expect(MODERATORS, 200, 403),
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(PAGE_ACTIONS))
def test_role_matrix_on_pages(app, site, actor, action):
    do, expected = PAGE_ACTIONS[action]
    client = _browser(app, actor)
    response = do(client, site)
    assert response.status_code in expected[actor], response.get_data(as_text=True)[
        :300
    ]
    if response.status_code == 302 and actor == "pending":
        assert response.location.endswith("/auth/waiting")
    elif response.status_code == 302 and actor == "suspended":
        assert "/auth/login" in response.location


def _article(**fields):
    return {
        "article": {
            "title": "Via the API",
            "description": "",
            "body": "Text.",
            **fields,
        }
    }


API_ACTIONS = {
    "write an article": (
        lambda c, h, s: c.post("/api/articles", headers=h, json=_article()),
        _expect_in_api(WRITERS, 201, 403),
    ),
    "change someone else's article": (
        lambda c, h, s: c.put(
            f"/api/articles/{s['post_slug']}", headers=h, json=_article(title="New")
        ),
        _expect_in_api(MODERATORS, 200, 403),
    ),
    "unpublish someone else's article": (
        lambda c, h, s: c.put(
            f"/api/articles/{s['post_slug']}",
            headers=h,
            json={"article": {"published": False}},
        ),
        _expect_in_api(MODERATORS, 200, 403),
    ),
    "delete someone else's article": (
        lambda c, h, s: c.delete(f"/api/articles/{s['post_slug']}", headers=h),
        _expect_in_api(MODERATORS, 204, 403),
    ),
    "read someone else's draft": (
        lambda c, h, s: c.get(f"/api/articles/{s['draft_slug']}", headers=h),
        _expect_in_api(MODERATORS, 200, 404),
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(API_ACTIONS))
def test_role_matrix_in_the_api(app, site, actor, action):
    do, expected = API_ACTIONS[action]
    headers = _token(app, actor)
    response = do(app.test_client(), headers, site)
    assert response.status_code in expected[actor], response.get_data(as_text=True)
    if response.status_code in (401, 403):
        assert response.json["errors"]["body"]


def test_a_refusal_changes_nothing(app, site):
    """A refused use case writes nothing: the post stays as it was."""
    with app.app_context():
        reader = find_user("reader1")
        author = find_user("author1")
        post = db.session.get(Post, site["post"])
        for actor in (reader, author):
            with pytest.raises(NotAllowed):
                writing.update_post(actor, post, "Mine now", "x", tags=[])
            with pytest.raises(NotAllowed):
                lifecycle.unpublish(actor, post)
            with pytest.raises(NotAllowed):
                lifecycle.move_to_trash(actor, post)
        with pytest.raises(NotAllowed):
            writing.create_post(reader, "No", "x", tags=[], publish=True)
        db.session.expire_all()
        post = db.session.get(Post, site["post"])
        assert post.title == "Their post" and post.is_public
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        )


# Contributors submit, editors publish or return.


def test_contributor_submits_and_an_editor_publishes(app, site):
    contributor = _browser(app, "contributor")
    page = contributor.get("/create").get_data(as_text=True)
    assert "Submit for review" in page and ">Publish<" not in page
    assert 'value="schedule"' not in page
    response = _save(contributor, "/create", title="For review")
    assert response.status_code == 302
    with app.app_context():
        post = db.session.scalars(sa.select(Post).filter_by(title="For review")).one()
        assert post.is_draft and post.review_requested is not None
        post_id = post.id
    # Still theirs to edit while it waits; the editor page says it waits.
    page = contributor.get(f"/{post_id}/update").get_data(as_text=True)
    assert "Submitted for review on" in page
    assert (
        _save(
            contributor,
            f"/{post_id}/update",
            title="For review, better",
            action="draft",
        ).status_code
        == 302
    )

    editor = _browser(app, "editor")
    review = editor.get("/review").get_data(as_text=True)
    assert "For review, better" in review and "contributor1" in review
    editing = editor.get(f"/{post_id}/update").get_data(as_text=True)
    assert "contributor1’s post" in editing
    response = _post_button(editor, f"/review/{post_id}/publish", "/review")
    assert response.status_code == 302
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.is_public and post.review_requested is None
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == "post_published_for_contributor"
        assert (entry.actor_name, entry.subject_name) == ("editor1", "contributor1")
    assert "Nothing waits for review." in editor.get("/review").get_data(as_text=True)
    # Published by an editor: only editors change it now.
    assert contributor.get(f"/{post_id}/update").status_code == 403
    assert editor.get(f"/{post_id}/update").status_code == 200


def test_an_editor_returns_a_submission_with_a_note(app, site):
    with app.app_context():
        contributor = find_user("contributor1")
        post = writing.create_post(
            contributor, "Needs work", "x", tags=[], publish=True
        )
        post_id = post.id
        assert post.is_draft and post.review_requested is not None
    editor = _browser(app, "editor")
    token = csrf_token_from(editor, "/review")
    response = editor.post(
        f"/review/{post_id}/return",
        data={"return-csrf_token": token, "return-note": "Shorter, please."},
    )
    assert response.status_code == 302
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.is_draft and post.review_requested is None
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.detail) == (
            "post_returned_to_contributor",
            "Shorter, please.",
        )


def test_review_use_cases_refuse_others_and_non_submissions(app, site):
    with app.app_context():
        author = find_user("author1")
        editor = find_user("editor1")
        post = db.session.get(Post, site["draft"])
        with pytest.raises(Invalid):
            editorial.publish_submission(editor, post)  # never submitted
        contributor = find_user("contributor1")
        submitted = writing.create_post(contributor, "S", "x", tags=[], publish=True)
        with pytest.raises(NotAllowed):
            editorial.publish_submission(author, submitted)
        with pytest.raises(NotAllowed):
            editorial.return_submission(contributor, submitted, "")
        with pytest.raises(Invalid):
            editorial.return_submission(editor, submitted, "x" * 5000)
        # A contributor's schedule is a submission too.
        writing.update_post(
            contributor, submitted, "S", "x", tags=[], schedule_at=None, publish=True
        )
        assert submitted.is_draft and submitted.review_requested is not None


def test_contributor_api_article_is_a_draft_for_review(app, site):
    headers = _token(app, "contributor")
    client = app.test_client()
    response = client.post("/api/articles", headers=headers, json=_article())
    assert response.status_code == 201
    assert response.json["article"]["published"] is False
    slug = response.json["article"]["slug"]
    # Asking again to publish it keeps it a draft, submitted.
    response = client.put(
        f"/api/articles/{slug}", headers=headers, json={"article": {"published": True}}
    )
    assert response.status_code == 200
    assert response.json["article"]["published"] is False
    with app.app_context():
        post = db.session.scalars(sa.select(Post).filter_by(slug=slug)).one()
        assert post.review_requested is not None


def test_editor_edits_and_unpublishes_others_posts_with_an_audit(app, site):
    editor = _browser(app, "editor")
    response = _save(
        editor,
        f"/{site['post']}/update",
        action="save",
        title="Edited by an editor",
    )
    assert response.status_code == 302
    assert (
        _post_button(
            editor, f"/{site['post']}/unpublish", "/auth/account", prefix="unpublish"
        ).status_code
        == 302
    )
    with app.app_context():
        post = db.session.get(Post, site["post"])
        assert post.title == "Edited by an editor" and post.is_draft
        assert post.author.username == "other"  # still the writer's post
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == "post_unpublished_by_editor"
        assert (entry.actor_name, entry.subject_name) == ("editor1", "other")


def test_write_controls_follow_the_role(app, site):
    reader = _browser(app, "reader")
    page = reader.get("/").get_data(as_text=True)
    assert 'class="write"' not in page
    assert f"/{site['post']}/update" not in reader.get(
        f"/{site['post']}", follow_redirects=True
    ).get_data(as_text=True)
    editor = _browser(app, "editor")
    assert 'class="write"' in editor.get("/").get_data(as_text=True)
    assert f"/{site['post']}/update" in editor.get(
        f"/{site['post']}", follow_redirects=True
    ).get_data(as_text=True)


def test_set_role_command_records_an_audit_entry(app, site):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-role", "reader1", "editor"])
    assert result.exit_code == 0, result.output
    assert "Editor" in result.output
    assert runner.invoke(args=["set-role", "nobody-here", "editor"]).exit_code != 0
    assert runner.invoke(args=["set-role", "reader1", "king"]).exit_code != 0
    with app.app_context():
        assert find_user("reader1").role == "editor"
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.actor_id, entry.detail) == (
            "role_changed",
            None,
            "reader → editor",
        )
    # make-admin keeps working.
    assert runner.invoke(args=["make-admin", "reader1"]).exit_code == 0
    with app.app_context():
        assert find_user("reader1").is_admin
    # The site keeps an active administrator.
    assert runner.invoke(args=["set-role", "admin1", "reader"]).exit_code == 0
    refused = runner.invoke(args=["set-role", "reader1", "author"])
    assert refused.exit_code != 0 and "active administrator" in refused.output


def test_contributors_trash_their_drafts_but_not_what_an_editor_published(app, site):
    with app.app_context():
        contributor, editor = find_user("contributor1"), find_user("editor1")
        draft = writing.create_post(contributor, "Mine", "x", tags=[], publish=False)
        lifecycle.move_to_trash(contributor, draft)
        lifecycle.restore(contributor, draft)
        submitted = writing.create_post(contributor, "Out", "x", tags=[], publish=True)
        editorial.publish_submission(editor, submitted)
        with pytest.raises(NotAllowed):
            lifecycle.move_to_trash(contributor, submitted)
        with pytest.raises(NotAllowed):
            writing.autosave(
                contributor, submitted, "Out", "y", tags=[], summary="", opened_at=1
            )
        lifecycle.move_to_trash(editor, draft)
        lifecycle.delete_forever(editor, draft)


def test_readers_and_contributors_import_no_blog(app, site):
    with app.app_context():
        for name in ("reader1", "contributor1"):
            with pytest.raises(NotAllowed):
                import_own_zip(io.BytesIO(b"not a zip"), find_user(name))


def test_pictures_are_for_writers_and_their_owners(app, site):
    with app.app_context():
        picture = process_upload(io.BytesIO(png()), max_bytes=10**7, max_pixels=10**8)
        with pytest.raises(NotAllowed):
            media.add_picture(find_user("reader1"), picture, "A square")
        kept = media.add_picture(find_user("author1"), picture, "A square")
        with pytest.raises(NotAllowed):
            media.delete_picture(find_user("editor1"), kept)
        media.delete_picture(find_user("author1"), kept)


def test_review_forms_take_hostile_input_without_a_5xx(app, site):
    with app.app_context():
        contributor = find_user("contributor1")
        post_id = writing.create_post(contributor, "S", "x", tags=[], publish=True).id
    editor = _browser(app, "editor")
    token = csrf_token_from(editor, "/review")
    for value in HOSTILE:
        response = editor.post(
            f"/review/{post_id}/return",
            data={"return-csrf_token": token, "return-note": value},
        )
        assert response.status_code < 500, repr(value)
        assert editor.post(
            f"/review/{value or 0}/publish", data={"csrf_token": token}
        ).status_code in (302, 400, 404, 422), repr(value)


def test_accounts_that_are_not_active_are_refused_by_every_use_case(app, site):
    """Whatever the doors do with their sessions, the use cases themselves
    refuse a writer who is suspended, waiting or removed."""
    with app.app_context():
        writer = find_user("author1")
        own = writing.create_post(writer, "Own", "x", tags=[], publish=True)
        trashed = writing.create_post(writer, "Gone", "x", tags=[], publish=True)
        lifecycle.move_to_trash(writer, trashed)
        kept = media.add_picture(
            writer,
            process_upload(io.BytesIO(png()), max_bytes=10**7, max_pixels=10**8),
            "A square",
        )
        revision = revisions.revisions_of(own)[0]
        before = database_rows()
        for state in ("suspended", "pending", "removed"):
            writer.state = state
            attempts = [
                lambda: writing.create_post(writer, "N", "x", tags=[], publish=False),
                lambda: writing.update_post(writer, own, "N", "x", tags=[]),
                lambda: writing.autosave(
                    writer, own, "N", "x", tags=[], summary="", opened_at=own.version
                ),
                lambda: lifecycle.unpublish(writer, own),
                lambda: lifecycle.move_to_trash(writer, own),
                lambda: lifecycle.restore(writer, trashed),
                lambda: lifecycle.delete_forever(writer, trashed),
                lambda: revisions.restore(writer, own, revision, opened_at=None),
                lambda: media.delete_picture(writer, kept),
                lambda: held_images.hold_image(
                    writer,
                    process_upload(
                        io.BytesIO(png()), max_bytes=10**7, max_pixels=10**8
                    ),
                ),
            ]
            for attempt in attempts:
                with pytest.raises(NotAllowed):
                    attempt()
        writer.state = "active"
        db.session.flush()
        assert database_rows() == before

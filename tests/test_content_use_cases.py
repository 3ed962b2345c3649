"""Content use cases driven with no request at all: each checks its own
input, raises one ``Invalid`` naming every field, and changes all or nothing.

"Nothing" is checked by a snapshot of every table's rows before and after
a refused call, so a half-written tag, revision, picture or version move
cannot hide. Runs on SQLite, and on PostgreSQL with
``FLASKR_TEST_DATABASE_URL``.
"""

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import HeldImage
from flaskr.models import Image
from flaskr.models import Like
from flaskr.models import MediaImage
from flaskr.models import Post
from flaskr.models import PostRevision
from flaskr.models import PostTag
from flaskr.models import TITLE_MAX_LENGTH
from flaskr.models import User
from flaskr.services.accounts.directory import find_user
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import PostChanged
from flaskr.services.base.images import process_upload
from flaskr.services.content import held_images
from flaskr.services.content import lifecycle
from flaskr.services.content import media
from flaskr.services.content import writing
from flaskr.services.portability.exports import export_own_blog
from flaskr.services.portability.foreign import MarkdownFolder
from flaskr.services.portability.imports import import_from
from flaskr.services.portability.imports import import_own_zip
from flaskr.services.social import follows
from flaskr.services.social import reactions
from tests.helpers import database_rows


def picture_bytes(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Pillow.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def processed(colour: str = "red"):
    return process_upload(
        io.BytesIO(picture_bytes(colour)), max_bytes=10**7, max_pixels=10**8
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def writer(ctx) -> User:
    return find_user("test")


# Creating


def test_create_publishes_with_only_title_and_body(writer):
    post = writing.create_post(writer, "Hello", "Some *text*.", tags=[], publish=True)
    assert post.is_public and post.slug == "hello"
    assert "<em>text</em>" in post.body_html
    assert count(PostRevision) == 1


def test_create_refuses_every_bad_field_at_once_and_writes_nothing(writer):
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        writing.create_post(
            writer,
            "",
            "a\x00b",
            tags=[f"tag{number}" for number in range(30)],
            publish=False,
            summary="x" * 10_000,
            slug="Not A Slug",
            schedule_at=utcnow() - dt.timedelta(hours=1),
            time_zone="Mars/Olympus_Mons",
        )
    assert refused.value.problems == {
        "title": ["Title is required."],
        "body": ["Text must not contain NUL characters."],
        "tags": [refused.value.problems["tags"][0]],
        "summary": [refused.value.problems["summary"][0]],
        "slug": [refused.value.problems["slug"][0]],
        "publish_at": ["That time has passed: choose one to come."],
        "time_zone": ["Choose a time zone from the list."],
    }
    assert "at most" in refused.value.problems["tags"][0]
    assert database_rows() == before


def test_create_refuses_a_title_too_long(writer):
    with pytest.raises(Invalid) as refused:
        writing.create_post(
            writer, "x" * (TITLE_MAX_LENGTH + 1), "", tags=[], publish=True
        )
    assert list(refused.value.problems) == ["title"]


def test_create_normalizes_tags_and_drops_ones_without_letters(writer):
    post = writing.create_post(
        writer, "Tagged", "x", tags=["Travel Notes", "!!", "travel-notes"], publish=True
    )
    assert post.tag_names == ["travel-notes"]


def test_a_schedule_keeps_the_writers_zone_in_the_same_save(writer):
    later = utcnow() + dt.timedelta(days=3)
    post = writing.create_post(
        writer,
        "Later",
        "x",
        tags=[],
        publish=False,
        schedule_at=later,
        time_zone="Europe/Paris",
    )
    db.session.expire_all()
    assert post.is_scheduled
    assert find_user("test").time_zone == "Europe/Paris"


def test_a_refused_schedule_forgets_the_zone_too(writer):
    before = database_rows()
    with pytest.raises(Invalid):
        writing.create_post(
            writer,
            "Too far",
            "x",
            tags=[],
            publish=False,
            schedule_at=utcnow() + dt.timedelta(days=6 * 366),
            time_zone="Europe/Paris",
        )
    assert database_rows() == before


def test_a_cover_without_description_is_refused_and_stays_held(writer):
    held = held_images.hold_image(writer, processed())
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        writing.create_post(
            writer,
            "Pictured",
            "x",
            tags=["a"],
            publish=True,
            image=writing.ImageChange(held=held, alt="  "),
        )
    assert list(refused.value.problems) == ["image_alt"]
    assert refused.value.problems["image_alt"] == [media.alt_problem("")]
    assert database_rows() == before


def test_a_cover_description_follows_the_library_rule(writer):
    held = held_images.hold_image(writer, processed())
    with pytest.raises(Invalid) as refused:
        writing.create_post(
            writer,
            "Pictured",
            "x",
            tags=[],
            publish=True,
            image=writing.ImageChange(held=held, alt="A bell\x07"),
        )
    assert refused.value.problems["image_alt"] == [media.alt_problem("A bell\x07")]


def test_another_writers_held_image_is_refused(ctx, writer):
    other = find_user("other")
    held = held_images.hold_image(other, processed())
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        writing.create_post(
            writer,
            "Not mine",
            "x",
            tags=[],
            publish=True,
            image=writing.ImageChange(held=held, alt="Theirs"),
        )
    assert list(refused.value.problems) == ["image_file"]
    assert database_rows() == before


def test_a_cover_is_attached_and_its_hold_ends_in_one_save(writer):
    held = held_images.hold_image(writer, processed())
    post = writing.create_post(
        writer,
        "Pictured",
        "x",
        tags=[],
        publish=True,
        image=writing.ImageChange(held=held, alt="A red field"),
    )
    assert post.image is not None and post.image.alt == "A red field"
    assert count(HeldImage) == 0


def test_create_with_a_taken_slug_writes_nothing(writer):
    writing.create_post(writer, "First", "x", tags=[], publish=True, slug="mine")
    held = held_images.hold_image(writer, processed())
    before = database_rows()
    with pytest.raises(writing.SlugTakenError) as refused:
        writing.create_post(
            writer,
            "Second",
            "y",
            tags=["new-tag"],
            publish=True,
            slug="mine",
            image=writing.ImageChange(held=held, alt="Described"),
        )
    assert isinstance(refused.value, Invalid)
    assert refused.value.problems["slug"][0].startswith(
        "Another post has the address mine."
    )
    assert database_rows() == before


# Updating


@pytest.fixture
def pictured(writer) -> Post:
    """A published post with tags, a cover and two revisions."""
    held = held_images.hold_image(writer, processed("blue"))
    post = writing.create_post(
        writer,
        "Pictured",
        "First text",
        tags=["old", "kept"],
        publish=True,
        image=writing.ImageChange(held=held, alt="A blue square"),
    )
    writing.update_post(
        post.author, post, "Pictured", "Second text", tags=["old", "kept"], image=None
    )
    return post


def test_update_refused_half_way_leaves_everything_as_it_was(writer, pictured):
    """The slug is found taken after the version moved and the text, tags,
    revision and picture were filled in: all of it goes back."""
    writing.create_post(writer, "Other", "x", tags=[], publish=True, slug="taken")
    held = held_images.hold_image(writer, processed("green"))
    before = database_rows()
    with pytest.raises(writing.SlugTakenError):
        writing.update_post(
            pictured.author,
            pictured,
            "Renamed",
            "Third text",
            tags=["new", "kept"],
            image=writing.ImageChange(held=held, alt="A green square"),
            opened_at=pictured.version,
            summary="Changed.",
            slug="taken",
        )
    assert database_rows() == before


def test_update_refused_by_a_rule_changes_nothing(writer, pictured):
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        writing.update_post(
            pictured.author,
            pictured,
            "Renamed",
            "Third text",
            tags=["new"],
            image=writing.ImageChange(alt=""),  # keeps the cover, undescribed
            opened_at=pictured.version,
        )
    assert list(refused.value.problems) == ["image_alt"]
    assert database_rows() == before


def test_update_from_an_old_version_changes_nothing(writer, pictured):
    before = database_rows()
    with pytest.raises(PostChanged):
        writing.update_post(
            pictured.author,
            pictured,
            "Renamed",
            "Old tab",
            tags=[],
            opened_at=pictured.version - 1,
        )
    assert database_rows() == before


def test_update_changes_text_tags_picture_and_revision_together(writer, pictured):
    held = held_images.hold_image(writer, processed("green"))
    revisions = count(PostRevision)
    writing.update_post(
        pictured.author,
        pictured,
        "Renamed",
        "Third text",
        tags=["new", "kept"],
        image=writing.ImageChange(held=held, alt="A green square"),
        opened_at=pictured.version,
    )
    db.session.expire_all()
    post = db.session.get(Post, pictured.id)
    assert (post.title, post.body) == ("Renamed", "Third text")
    assert sorted(post.tag_names) == ["kept", "new"]
    assert post.image.alt == "A green square"
    assert count(Image) == 1 and count(HeldImage) == 0
    assert count(PostRevision) == revisions + 1


def test_update_can_unpublish_in_the_same_save(writer, pictured):
    writing.update_post(
        pictured.author,
        pictured,
        "Pictured",
        "Back to drafts",
        tags=["old"],
        unpublish=True,
    )
    db.session.expire_all()
    post = db.session.get(Post, pictured.id)
    assert post.is_draft and post.body == "Back to drafts"
    links = db.session.scalars(sa.select(PostTag).where(PostTag.post_id == post.id))
    assert [link.published for link in links] == [None]


# Autosaving


def test_autosave_refuses_a_bad_field_and_changes_nothing(writer):
    draft = writing.create_post(writer, "Draft", "x", tags=[], publish=False)
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        writing.autosave(
            draft.author,
            draft,
            "x" * (TITLE_MAX_LENGTH + 1),
            "typed",
            tags=[],
            summary="",
            opened_at=draft.version,
        )
    assert list(refused.value.problems) == ["title"]
    assert database_rows() == before


def test_autosave_refuses_a_published_post(writer):
    post = writing.create_post(writer, "Out", "x", tags=[], publish=True)
    before = database_rows()
    with pytest.raises(Invalid):
        writing.autosave(
            post.author,
            post,
            "Out",
            "typed",
            tags=[],
            summary="",
            opened_at=post.version,
        )
    assert database_rows() == before


# Importing


def test_import_refuses_an_undescribed_cover_and_writes_nothing(writer):
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        writing.import_post(
            writer,
            "Imported",
            "x",
            tags=["a"],
            summary="",
            slug="imported",
            created=utcnow(),
            published=utcnow(),
            updated=None,
            cover=(processed(), "\x1b[31m"),
        )
    assert list(refused.value.problems) == ["image_alt"]
    assert database_rows() == before


def test_an_archive_item_refused_leaves_nothing_behind(writer):
    """A folder of two posts: the one whose address another writer has is
    reported and leaves no trace; the other is imported with its picture."""
    writing.create_post(
        find_user("other"), "Theirs", "x", tags=[], publish=True, slug="theirs"
    )
    files = {
        "mine.md": (
            b"---\ntitle: Mine\ndate: 2024-01-02\ntags: [a]\nimage: red.png\n---\n"
            b"Mine.\n"
        ),
        "theirs.md": b"---\ntitle: Theirs\ndate: 2024-01-03\ntags: [b]\n---\nNo.\n",
        "red.png": picture_bytes(),
    }
    source = MarkdownFolder(files, files.__getitem__)
    before = database_rows()
    report = import_from(source, writer=writer)
    assert [item for item, _ in report.failed] == ["post theirs.md"]
    assert report.created["post"] == 1
    after = database_rows()
    titles = db.session.scalars(sa.select(Post.title).order_by(Post.id)).all()
    assert titles.count("Theirs") == 1 and "Mine" in titles
    for table, added in (("post", 1), ("post_revision", 1), ("image", 1)):
        assert len(after[table]) == len(before[table]) + added, table
    assert len(after["tag"]) == len(before["tag"]) + 1, "a, not b"


def test_a_writer_refused_for_its_avatar_leaves_no_account(ctx):
    class OneWriter(MarkdownFolder):
        def profiles(self):
            return [{"username": "newcomer", "avatar": "avatars/newcomer.webp"}]

        def read(self, name):
            return b"not a picture"

    before = database_rows()
    report = import_from(OneWriter([], lambda name: b""))
    assert [item for item, _ in report.failed] == ["writer newcomer"]
    assert find_user("newcomer") is None
    assert database_rows() == before


# The trash


def test_delete_forever_takes_everything_of_the_post(writer, pictured):
    other = find_user("other")
    reactions.add_comment(pictured, other, "Nice.", post_link="/")
    reactions.set_like(other, pictured, liked=True)
    lifecycle.move_to_trash(pictured.author, pictured)
    post_id = pictured.id
    lifecycle.delete_forever(pictured.author, pictured)
    for model in (Image, Comment, Like, PostTag, PostRevision):
        column = model.post_id
        left = db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(column == post_id)
        )
        assert left == 0, model.__name__


def test_delete_forever_refuses_a_post_outside_the_trash(writer, pictured):
    before = database_rows()
    with pytest.raises(Invalid):
        lifecycle.delete_forever(pictured.author, pictured)
    assert database_rows() == before


# Comments and pictures


def test_a_refused_comment_writes_nothing(writer, pictured):
    draft = writing.create_post(writer, "Draft", "x", tags=[], publish=False)
    before = database_rows()
    with pytest.raises(Invalid) as empty:
        reactions.add_comment(pictured, writer, "   ", post_link="/")
    assert empty.value.problems == {"body": ["Comment is required."]}
    with pytest.raises(Invalid):
        reactions.add_comment(draft, writer, "On a draft", post_link="/")
    assert database_rows() == before


def test_a_refused_comment_edit_keeps_the_text(writer, pictured):
    comment = reactions.add_comment(pictured, writer, "First.", post_link="/")
    before = database_rows()
    with pytest.raises(Invalid):
        reactions.edit_comment(comment, "bad\x00")
    assert database_rows() == before


def test_a_library_picture_is_checked_by_its_use_case(writer):
    before = database_rows()
    with pytest.raises(Invalid) as refused:
        media.add_picture(writer, processed(), "", key="not-a-key")
    assert sorted(refused.value.problems) == ["alt", "key"]
    assert database_rows() == before
    kept = media.add_picture(writer, processed(), "Red")
    with pytest.raises(Invalid) as taken:
        media.add_picture(writer, processed(), "Red again", key=kept.key)
    assert list(taken.value.problems) == ["key"]
    assert count(MediaImage) == 1


def test_following_oneself_is_refused_and_writes_nothing(writer):
    before = database_rows()
    with pytest.raises(follows.SelfFollowError):
        follows.follow(writer, writer)
    assert database_rows() == before


def test_a_like_and_its_count_change_together_once(writer, pictured):
    other = find_user("other")
    reactions.set_like(other, pictured, liked=True)
    reactions.set_like(other, pictured, liked=True)
    db.session.expire_all()
    assert db.session.get(Post, pictured.id).like_count == count(Like) == 1
    reactions.set_like(other, pictured, liked=False)
    db.session.expire_all()
    assert db.session.get(Post, pictured.id).like_count == count(Like) == 0


def test_a_writers_own_export_and_import_are_security_events(writer, security_events):
    """Downloading everything an account wrote, and loading a zip into it,
    are logged by the use cases themselves, whichever door called them."""
    writing.create_post(writer, "Kept", "A body worth keeping.", tags=[], publish=True)
    archive = b"".join(export_own_blog(writer))
    assert security_events[-1]["event"] == "blog_exported"
    assert security_events[-1]["user_id"] == writer.id
    report = import_own_zip(io.BytesIO(archive), writer)
    assert security_events[-1] == {
        "event": "blog_imported",
        "user_id": writer.id,
        "posts": report.created["post"],
    }

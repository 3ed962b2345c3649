"""Importing Flaskr's own export: a round trip keeps the content, a second
import changes nothing, a dry run writes nothing, hostile archives are
refused whole or item by item, never with a 500 or half an item."""

import hashlib
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from PIL import Image as Pillow

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Follow
from flaskr.models import Like
from flaskr.models import Post
from flaskr.models import User
from flaskr.schema import init_db
from flaskr.services.portability.exports import export_zip
from flaskr.services.portability.exports import Scope
from flaskr.services.portability.imports import ArchiveRefused
from flaskr.services.portability.imports import import_export
from tests.helpers import assert_counts_match_rows
from tests.helpers import seed_blog


def site_export(app) -> bytes:
    with app.app_context():
        # The tutorial's post, made without the service, has no address yet.
        db.session.execute(
            sa.update(Post).where(Post.slug.is_(None)).values(slug="first")
        )
        db.session.commit()
        return b"".join(export_zip(Scope()))


def contents(data: bytes) -> dict[str, object]:
    """What an export holds, without what may differ between two exports of
    the same blog: the time of the export, pictures' encoded bytes, the order
    of rows that follows ids."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    held: dict[str, object] = {}
    for name in archive.namelist():
        raw = archive.read(name)
        if name == "manifest.json":
            held[name] = json.loads(raw)["counts"]
        elif name.endswith(".json"):
            held[name] = sorted(
                json.dumps(row, sort_keys=True) for row in json.loads(raw)
            )
        elif name.endswith(".webp"):
            held[name] = Pillow.open(io.BytesIO(raw)).size
        else:
            held[name] = raw.decode()
    return held


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in (User, Post, Comment, Like, Follow)
        }


def test_a_round_trip_keeps_everything(app):
    seed_blog(app)
    first = site_export(app)
    with app.app_context():
        init_db()  # an empty site
        report = import_export(io.BytesIO(first))
        assert report.failed == []
        assert report.created["post"] == 5
        assert report.created["writer"] == 2
        assert_counts_match_rows()
    second = site_export(app)
    assert contents(second) == contents(first)
    # The imported posts read as the writer wrote them, at their old dates.
    client = app.test_client()
    page = client.get("/u/test").get_data(as_text=True)
    assert "Hello export" in page and "A draft" not in page
    with app.app_context():
        post = db.session.scalar(sa.select(Post).where(Post.title == "Hello export"))
        assert post.image is not None and post.image.alt == "The cover"
        assert "/media/" in post.body_html


def test_importing_twice_changes_nothing(app):
    seed_blog(app)
    data = site_export(app)
    before = row_counts(app)
    with app.app_context():
        report = import_export(io.BytesIO(data))
    assert report.failed == []
    assert sum(report.created.values()) == 0
    assert report.skipped["post"] == 5 and report.skipped["comment"] == 1
    assert row_counts(app) == before


def test_a_dry_run_writes_nothing(app):
    seed_blog(app)
    data = site_export(app)
    with app.app_context():
        init_db()
        report = import_export(io.BytesIO(data), dry_run=True)
    assert report.failed == []
    assert report.created["post"] == 5
    assert row_counts(app) == {
        "User": 0,
        "Post": 0,
        "Comment": 0,
        "Like": 0,
        "Follow": 0,
    }


def test_everything_to_one_writer(app, runner, tmp_path):
    seed_blog(app)
    target = tmp_path / "site.zip"
    target.write_bytes(site_export(app))
    with app.app_context():
        init_db()
    runner.invoke(args=["seed-demo", "--posts", "0", "--users", "1"])
    result = runner.invoke(args=["import", str(target), "--writer", "demo1"])
    assert result.exit_code == 0, result.output
    assert "post: 5 created" in result.output
    with app.app_context():
        authors = set(db.session.scalars(sa.select(Post.author_id)))
        demo1 = db.session.scalar(sa.select(User.id).where(User.username == "demo1"))
        assert authors == {demo1}


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def export_of(files: dict[str, bytes]) -> bytes:
    manifest = {
        "format": "flaskr-export",
        "version": 1,
        "files": {
            name: hashlib.sha256(data).hexdigest() for name, data in files.items()
        },
    }
    return zip_of({**files, "manifest.json": json.dumps(manifest).encode()})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "not a zip file"),
        (zip_of({"../evil.md": b"x"}), "leaves the archive"),
        (zip_of({"/etc/passwd": b"x"}), "leaves the archive"),
        (zip_of({"a\\b.md": b"x"}), "leaves the archive"),
        (zip_of({"bomb.json": b"\0" * 5_000_000}), "expands too much"),
        (zip_of({"posts/a.md": b"x"}), "no manifest"),
        (
            zip_of(
                {
                    "manifest.json": json.dumps(
                        {"format": "flaskr-export", "version": 9}
                    ).encode()
                }
            ),
            "version 9",
        ),
    ],
)
def test_hostile_archives_are_refused_whole(app, data, message):
    with app.app_context(), pytest.raises(ArchiveRefused, match=message):
        import_export(io.BytesIO(data))


def test_a_file_unlike_its_manifest_is_refused(app):
    files = {"profiles.json": b"[]"}
    data = export_of(files)
    tampered = zip_of(
        {
            "profiles.json": b'[{"username": "mallory"}]',
            "manifest.json": zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"),
        }
    )
    with app.app_context(), pytest.raises(ArchiveRefused, match="not the file"):
        import_export(io.BytesIO(tampered))


def test_bad_items_are_reported_and_leave_nothing(app):
    def post(**matter: str) -> bytes:
        lines = [f"{name}: {value}" for name, value in matter.items()]
        return ("---\n" + "\n".join(lines) + "\n---\nText.\n").encode()

    old = "'2020-01-01T00:00:00+00:00'"
    good = post(
        title="Fine",
        slug="fine",
        author="test",
        state="published",
        published=old,
        created=old,
        tags="[a]",
    )
    python = post(
        title="!!python/object/apply:os.system ['echo hi']",
        slug="evil",
        author="test",
        state="published",
    )
    no_title = post(
        title="''", slug="untitled", author="test", state="draft", created=old
    )
    stranger = post(
        title="T", slug="theirs", author="nobody", state="draft", created=old
    )
    naive = post(
        title="T",
        slug="naive",
        author="test",
        state="published",
        published="'2020-01-01T00:00:00'",
    )
    taken = post(
        title="T", slug="test-title", author="other", state="draft", created=old
    )
    files = {
        "profiles.json": json.dumps(
            [{"username": "test"}, {"username": "other"}]
        ).encode(),
        "posts/fine.md": good,
        "posts/evil.md": python,
        "posts/untitled.md": no_title,
        "posts/theirs.md": stranger,
        "posts/naive.md": naive,
        "posts/taken.md": taken,
        "comments.json": json.dumps(
            [{"post": "gone", "author": "test", "body": "x"}]
        ).encode(),
    }
    with app.app_context():
        db.session.execute(sa.update(Post).values(slug="test-title"))
        db.session.commit()
        report = import_export(io.BytesIO(export_of(files)))
    assert report.created["post"] == 1
    reasons = dict(report.failed)
    assert "front matter is not YAML" in reasons["post posts/evil.md"]
    assert reasons["post posts/untitled.md"] == "Title is required."
    assert "'nobody' is not in the export" in reasons["post posts/theirs.md"]
    assert "no time zone" in reasons["post posts/naive.md"]
    assert "another writer's post" in reasons["post posts/taken.md"]
    assert "'gone' was not imported" in reasons["comment gone"]
    with app.app_context():
        titles = set(db.session.scalars(sa.select(Post.title)))
        assert titles == {"test title", "Fine"}
        fine = db.session.scalar(sa.select(Post).where(Post.slug == "fine"))
        assert fine.published.year == 2020 and fine.tag_names == ["a"]
        assert_counts_match_rows()


def test_the_command_reports_and_refuses(app, runner, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"nope")
    result = runner.invoke(args=["import", str(bad)])
    assert result.exit_code == 1
    assert "This is not a file Flaskr imports." in result.output
    seed_blog(app)
    good = tmp_path / "good.zip"
    good.write_bytes(site_export(app))
    result = runner.invoke(args=["import", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "A dry run: nothing was written." in result.output
    assert "post: 0 created, 0 updated, 5 skipped" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-02T10:30:00+01:00", "2020-01-02T09:30:00+00:00"),
        ("2020-01-02 10:30:00 +0100", "2020-01-02T09:30:00+00:00"),
        ("2019-02-01T10:00:00.000Z", "2019-02-01T10:00:00+00:00"),
        ("2018-06-01 08:00:00", "2018-06-01T08:00:00+00:00"),
        ("0000-00-00 00:00:00", None),
        ("", None),
    ],
)
def test_times_as_exports_write_them(text, expected):
    from flaskr.services.portability.imports import parse_time

    found = parse_time(text, "created", naive_is_utc=True)
    assert (found.isoformat() if found else None) == expected


def test_a_time_without_a_zone_is_refused_unless_told():
    from flaskr.services.portability.imports import parse_time

    with pytest.raises(ValueError, match="has no time zone"):
        parse_time("2020-01-01 00:00:00", "published")
    with pytest.raises(ValueError, match="is not a time"):
        parse_time("yesterday", "published")

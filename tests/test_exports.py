"""Exports: a writer's blog from the account page, the whole site from the
command line, in the format services/exports.py describes."""

import datetime as dt
import hashlib
import io
import json
import zipfile

import yaml

from flaskr.db import db
from flaskr.services.portability.exports import export_zip
from flaskr.services.portability.exports import Scope
from tests.conftest import AuthActions
from tests.helpers import seed_blog


def read_export(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    return archive, manifest


def front_matter(text: str) -> tuple[dict, str]:
    _, matter, body = text.split("---\n", 2)
    return yaml.safe_load(matter), body


def test_a_writer_downloads_their_blog(app):
    slug, key = seed_blog(app)
    client = app.test_client()
    AuthActions(client).login()
    assert "Download your blog" in client.get("/auth/account").get_data(as_text=True)
    response = client.get("/auth/account/export")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    assert 'filename="flaskr-test-' in response.headers["Content-Disposition"]
    archive, manifest = read_export(response.get_data())
    assert manifest["format"] == "flaskr-export" and manifest["version"] == 1
    assert manifest["scope"] == "writer"
    # Every file is named in the manifest with its SHA-256.
    names = set(archive.namelist()) - {"manifest.json"}
    assert names == set(manifest["files"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    posts_ = sorted(n for n in names if n.startswith("posts/"))
    # The tutorial's post, the published one, the draft and the scheduled one;
    # not the trashed one, not other's.
    assert len(posts_) == 4 == manifest["counts"]["posts"]
    matter, body = front_matter(archive.read(f"posts/{slug}.md").decode())
    assert matter["title"] == "Hello export"
    assert matter["summary"] == "A summary."
    assert matter["state"] == "published"
    assert matter["tags"] == ["food", "travel"]
    assert matter["author"] == "test"
    assert dt.datetime.fromisoformat(matter["published"]).tzinfo is not None
    assert matter["image_alt"] == "The cover"
    assert matter["image"].removeprefix("../") in names
    assert f"](../images/{key}.webp)" in body
    assert f"images/{key}.webp" in names
    states = {front_matter(archive.read(name).decode())[0]["state"] for name in posts_}
    assert states == {"published", "draft", "scheduled"}
    [comment] = json.loads(archive.read("comments.json"))
    assert comment == {
        "post": slug,
        "author": "other",
        "body": "Nice *one*.",
        "created": comment["created"],
        "edited": None,
    }
    assert json.loads(archive.read("likes.json"))[0]["user"] == "other"
    assert json.loads(archive.read("follows.json"))[0] == {
        "follower": "other",
        "followed": "test",
        "created": json.loads(archive.read("follows.json"))[0]["created"],
    }
    [profile] = json.loads(archive.read("profiles.json"))
    assert profile["username"] == "test"
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"argon2" not in everything and b"password" not in everything


def test_the_export_is_written_file_by_file(app):
    seed_blog(app)
    with app.app_context():
        chunks = list(export_zip(Scope()))
    # Each file reaches the stream as it is written, not the zip at the end.
    assert len([chunk for chunk in chunks if chunk]) > 10
    archive, manifest = read_export(b"".join(chunks))
    assert manifest["scope"] == "site"
    assert manifest["counts"]["profiles"] == 2
    assert archive.testzip() is None


def test_visitors_are_asked_to_log_in(client):
    response = client.get("/auth/account/export")
    assert response.headers["Location"].startswith("/auth/login")


def test_the_export_command(app, runner, tmp_path):
    seed_blog(app)
    target = tmp_path / "site.zip"
    result = runner.invoke(args=["export", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    archive, manifest = read_export(target.read_bytes())
    assert manifest["counts"]["posts"] == 5  # both writers, not the trash
    assert not (tmp_path / "site.zip.part").exists()
    one = tmp_path / "one.zip"
    assert runner.invoke(args=["export", str(one), "--writer", "other"]).exit_code == 0
    assert read_export(one.read_bytes())[1]["counts"]["posts"] == 1
    missing = runner.invoke(args=["export", str(one), "--writer", "nobody"])
    assert missing.exit_code == 2
    assert "There is no user nobody" in missing.output
    with app.app_context():
        db.session.remove()

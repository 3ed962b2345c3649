"""flask export-static: the public site as files whose links all work."""

import re
import urllib.parse

from flaskr.services.accounts.directory import find_user
from flaskr.services.content import writing
from tests.helpers import seed_blog

_REFERENCE = re.compile(r'(?:href|src)="([^"]*)"')
_SRCSET = re.compile(r'srcset="([^"]*)"')


def references(page: str) -> list[str]:
    found = _REFERENCE.findall(page)
    for value in _SRCSET.findall(page):
        found += [entry.strip().split(" ")[0] for entry in value.split(",")]
    return found


def test_the_static_copy_has_no_broken_link(app, runner, tmp_path):
    seed_blog(app)
    with app.app_context():  # addresses in another script
        writing.create_post(
            find_user("test"),
            "Привет, мир",
            "Текст.",
            tags=["путешествия"],
            publish=True,
        )
    assert (
        runner.invoke(args=["seed-demo", "--posts", "25", "--users", "3"]).exit_code
        == 0
    )
    folder = tmp_path / "site"
    result = runner.invoke(args=["export-static", str(folder)])
    assert result.exit_code == 0, result.output
    pages = sorted(folder.rglob("*.html"))
    assert len(pages) > 40
    for name in (
        "index.html",
        "tags.html",
        "archive.html",
        "tag/travel.html",
        "tag/путешествия.html",
        "u/test.html",
        "feed.atom",
        "sitemap.xml",
        "static/style.css",
    ):
        assert (folder / name).exists(), name
    checked = 0
    for page in pages:
        text = page.read_text()
        for reference in references(text):
            if re.match(r"^(https?:|mailto:|data:|#)", reference) or not reference:
                continue
            assert not reference.startswith("/"), (page, reference)
            target = urllib.parse.unquote(reference.split("#")[0].split("?")[0])
            assert (page.parent / target).resolve().exists(), (page, reference)
            checked += 1
    assert checked > 500
    # An older page of the index is in the copy, linked from the first.
    index = (folder / "index.html").read_text()
    older = re.search(r'href="(index/before-[^"]+\.html)"', index)
    assert older and (folder / older.group(1)).exists()
    # What only the live site can do stays there.
    assert 'href="http://127.0.0.1:5000/auth/login"' in index
    # Drafts and the trash are not copied.
    everything = "".join(page.read_text() for page in pages)
    assert "A draft" not in everything and "Gone" not in everything

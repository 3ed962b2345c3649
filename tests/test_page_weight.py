"""What the home and post pages weigh as nginx sends them: the HTML and every
stylesheet and script the page names, each gzipped the way
deploy/nginx/flaskr.conf does it (level 1, nginx's default; nothing under
gzip_min_length). Pictures are left out: they load lazily and in the size the
screen asks for.

The pages are those of the realistic blog the Lighthouse leg audits. The figures
are written to test-artifacts/page-weight.txt; bench/RESULTS.md keeps them per
issue. A page above the limit fails: raising it needs a reason written there.
"""

from __future__ import annotations

import gzip
import html.parser
import re
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.realistic_site import RealisticSite
from tests.realistic_site import seed_realistic_site

#: Bytes a page may weigh, compressed, with everything it loads.
LIMIT = 60_000
#: deploy/nginx/flaskr.conf's gzip settings.
NGINX_CONF = Path(__file__).parents[1] / "deploy" / "nginx" / "flaskr.conf"
GZIP_LEVEL = 1
GZIP_MIN_LENGTH = 1024
FIGURES = Path(__file__).parents[1] / "test-artifacts" / "page-weight.txt"


class _Assets(html.parser.HTMLParser):
    """The stylesheets and scripts a page loads, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "link" and named.get("rel") == "stylesheet" and named.get("href"):
            self.found.append(t.cast(str, named["href"]))
        elif tag == "script" and named.get("src"):
            self.found.append(t.cast(str, named["src"]))


def assets_of(page: str) -> list[str]:
    parser = _Assets()
    parser.feed(page)
    return parser.found


def sent_size(body: bytes) -> int:
    """The bytes nginx sends for a text response of ``body``."""
    if len(body) < GZIP_MIN_LENGTH:
        return len(body)
    return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))


def weigh(client: FlaskClient, path: str) -> dict[str, tuple[int, int]]:
    """Each file the page at ``path`` loads: (bytes, bytes sent compressed)."""
    files = {}
    response = client.get(path)
    assert response.status_code == 200, path
    html_body = response.get_data()
    files[path] = (len(html_body), sent_size(html_body))
    for asset in assets_of(html_body.decode()):
        loaded = client.get(asset)
        assert loaded.status_code == 200, asset
        body = loaded.get_data()
        loaded.close()
        files[asset] = (len(body), sent_size(body))
    return files


@pytest.fixture(scope="module")
def realistic(
    tmp_path_factory: pytest.TempPathFactory,
) -> t.Iterator[tuple[Flask, RealisticSite]]:
    from flaskr import create_app
    from flaskr.db import db
    from flaskr.schema import init_db
    from tests.conftest import make_config

    database = tmp_path_factory.mktemp("weight") / "flaskr.sqlite"
    app = create_app(make_config(f"sqlite:///{database}"))
    with app.app_context():
        init_db()
    pages = seed_realistic_site(app)
    yield app, pages
    with app.app_context():
        db.engine.dispose()


def test_the_weight_is_measured_as_nginx_compresses():
    settings = NGINX_CONF.read_text()
    assert re.search(r"^\s*gzip on;", settings, re.MULTILINE)
    assert re.search(rf"^\s*gzip_min_length {GZIP_MIN_LENGTH};", settings, re.M)
    # No gzip_comp_level: nginx compresses at level 1.
    assert "gzip_comp_level" not in settings
    for kind in ("text/css", "application/javascript"):
        assert kind in settings  # text/html is always compressed
    text = b"<p>A paragraph of a post, said again and again.</p>\n" * 100
    assert sent_size(text) < len(text) / 10
    assert sent_size(b"short") == 5


def test_home_and_post_pages_stay_light(realistic):
    app, pages = realistic
    client = app.test_client()
    lines = []
    totals = {}
    for name in ("home", "post"):
        files = weigh(client, getattr(pages, name))
        # The measurement sees what every page loads.
        assert "/static/style.css" in files
        assert "/static/site.js" in files
        totals[name] = sum(sent for _, sent in files.values())
        lines.append(
            f"{name} ({getattr(pages, name)}): {totals[name]:,} bytes sent,"
            f" {sum(raw for raw, _ in files.values()):,} uncompressed"
        )
        lines += [
            f"  {path}: {sent:,} ({raw:,})" for path, (raw, sent) in files.items()
        ]
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    heavy = {name: total for name, total in totals.items() if total > LIMIT}
    assert not heavy, f"above {LIMIT:,} bytes: {heavy}\n" + "\n".join(lines)

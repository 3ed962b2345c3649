"""``flask --app flaskr export-static DIR``: the public site as plain files.

The pages are the site's own, rendered by the app for a visitor (through a
test client, so exactly what a reader is served), from the index, tags,
archive and About page, following every link to another public page: posts,
their pages of comments, tags, authors, months, older pages. Each page is
written as a ``.html`` file and every link between copied pages is rewritten
as a relative path, so the copy works from a folder (``file://``) or from any
static host. Links to what a copy cannot do (log in, search, write) go to the
live site at ``SITE_URL``. Pictures, feeds, the sitemap and the stylesheets
are copied as they are served.
"""

from __future__ import annotations

import collections
import html
import posixpath
import re
import shutil
import typing as t
import urllib.parse
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from flaskr.web.site_links import DEVELOPMENT_SITE_URL

#: Where the crawl starts.
START = ("/", "/tags", "/archive", "/about")
#: Files copied as served, besides the pages.
FILES = ("/feed.atom", "/feed.rss", "/feed.json", "/sitemap.xml", "/robots.txt")
#: Pages that take visitors' input or need an account: left on the live site.
_LIVE_ONLY = re.compile(
    r"^/(auth|search|create|drafts|trash|images$|admin|following|api)(/|$)"
)
#: Pictures and other files that are not pages.
_FILE_PATH = re.compile(
    r"\.(webp|png|ico|svg|css|js|atom|rss|json|xml|txt|webmanifest)$"
)
_LINK = re.compile(r'(?P<attribute>href|src)="(?P<url>/[^"]*)"')
_SRCSET = re.compile(r'srcset="(?P<value>[^"]*)"')


def page_file(path: str, query: str) -> str:
    """The file a page is written to: ``/`` is ``index.html``, ``/tag/a``
    ``tag/a.html``, and a page link's query a file of its own beside it.
    Letters of other scripts are the file's own (``/tag/%D0%B0`` is
    ``tag/а.html``): a static host decodes the address before it looks."""
    name = urllib.parse.unquote(path).strip("/") or "index"
    if query:
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", urllib.parse.unquote(query)).strip("-")
        name = f"{name}/{safe}"
    return f"{name}.html"


def _is_page(path: str) -> bool:
    return not _LIVE_ONLY.match(path) and not _FILE_PATH.search(path)


class StaticCopy:
    """One crawl of the site into a folder."""

    def __init__(self, folder: Path, live_site: str) -> None:
        self.folder = folder
        self.live_site = live_site.rstrip("/")
        self.client = current_app.test_client()
        self.pages: dict[tuple[str, str], str] = {}
        self.files: set[str] = set()
        self.queue: collections.deque[tuple[str, str]] = collections.deque()

    def _want(self, url: str) -> str | None:
        """The copy's file for an address on this site (queued if new), or
        ``None`` for one only the live site can answer."""
        parts = urllib.parse.urlsplit(html.unescape(url))
        path, query = parts.path, parts.query
        if not _is_page(path):
            if _LIVE_ONLY.match(path):
                return None
            if not path.startswith("/static/"):  # the folder is copied whole
                self.files.add(path)
            return path.lstrip("/")
        key = (path, query)
        if key not in self.pages:
            self.pages[key] = page_file(path, query)
            self.queue.append(key)
        return self.pages[key]

    def _rewrite(self, text: str, own_file: str) -> str:
        here = posixpath.dirname(own_file)

        def link(match: re.Match[str]) -> str:
            url = match.group("url")
            fragment = ""
            if "#" in url:
                url, fragment = url.split("#", 1)
                fragment = "#" + fragment
            if not url:
                return match.group(0)
            target = self._want(url)
            if target is None:
                address = self.live_site + html.unescape(url) + fragment
                return f'{match.group("attribute")}="{html.escape(address)}"'
            relative = urllib.parse.quote(posixpath.relpath(target, here or "."))
            return f'{match.group("attribute")}="{relative}{fragment}"'

        def srcset(match: re.Match[str]) -> str:
            entries = []
            for entry in match.group("value").split(","):
                url, _, size = entry.strip().partition(" ")
                target = self._want(url) if url.startswith("/") else None
                shown = posixpath.relpath(target, here or ".") if target else url
                entries.append(f"{shown} {size}".strip())
            return f'srcset="{", ".join(entries)}"'

        return _SRCSET.sub(srcset, _LINK.sub(link, text))

    def _get(self, path: str, query: str = "") -> tuple[int, str, bytes]:
        """Status, type and body of the page at ``path``, as a visitor gets it."""
        with self.client.get(path, query_string=query) as response:
            return response.status_code, response.mimetype or "", response.get_data()

    def run(self, progress: t.Callable[[int], None]) -> tuple[int, int]:
        """Crawl and write; the number of pages and other files written."""
        for path in START:
            self._want(path)
        while self.queue:
            path, query = self.queue.popleft()
            status, mimetype, body = self._get(path, query)
            if status != 200 or mimetype != "text/html":
                del self.pages[(path, query)]  # e.g. no About page yet
                continue
            own_file = self.pages[(path, query)]
            text = self._rewrite(body.decode(), own_file)
            self._write(own_file, text.encode())
            progress(1)
        for path in (*FILES, *sorted(self.files)):
            status, _, body = self._get(path)
            if status == 200:
                self._write(path.lstrip("/"), body)
        static = Path(current_app.static_folder or "")
        shutil.copytree(static, self.folder / "static", dirs_exist_ok=True)
        return len(self.pages), len(self.files) + len(FILES)

    def _write(self, name: str, data: bytes) -> None:
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@click.command("export-static")
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), metavar="DIR"
)
@with_appcontext
def export_static_command(folder: Path) -> None:
    """Write the public site into DIR as plain files that work from a folder
    or any static host."""
    folder.mkdir(parents=True, exist_ok=True)
    live = current_app.config["SITE_URL"] or DEVELOPMENT_SITE_URL
    with click.progressbar(length=0, label="Copying pages", show_pos=True) as bar:
        pages, files = StaticCopy(folder, live).run(bar.update)
    click.echo(f"Wrote {pages:,} pages and {files:,} other files to {folder}.")

"""A post's one address: ``/p/<slug>`` once it has a slug, ``/<id>`` before.

Every link to a post (lists, the post page's canonical link, feeds, the
sitemap, the JSON API, redirects after a like or a comment) is made here, so
search engines and readers see one address per post; ``/<id>`` redirects to
it (``blog.post``).
"""

from __future__ import annotations

import functools
import typing as t

from flask import Flask
from flask import url_for

from flaskr.services.content.rules import slug_problem


class Addressable(t.Protocol):
    """A post, or a row naming one: its id, and its slug if it was read."""

    @property
    def id(self) -> int: ...


@functools.lru_cache(maxsize=4096)
def _findable(slug: str) -> bool:
    """Whether ``/p/`` finds a post by ``slug``: its rules walk every letter
    in two Unicode normalisations, and every link to a post asks, so the
    answer is kept per slug (a pure function of the text)."""
    return slug_problem(slug) is None


def address_slug(post: Addressable) -> str | None:
    """The slug ``/p/<slug>`` finds ``post`` by, or ``None`` (no slug, or one
    that ``/p/`` would not find, such as one saved before the rules)."""
    slug: str | None = getattr(post, "slug", None)
    if not slug or not _findable(slug):
        return None
    return slug


def post_url(post: Addressable, **values: t.Any) -> str:
    """The address of ``post``'s page; ``values`` as for ``url_for``
    (``_external``, ``_anchor``, query arguments)."""
    slug = address_slug(post)
    if slug is None:
        return url_for("blog.post", id=post.id, **values)
    return url_for("blog.post_by_slug", slug=slug, **values)


def init_app(app: Flask) -> None:
    app.add_template_global(post_url, "post_url")

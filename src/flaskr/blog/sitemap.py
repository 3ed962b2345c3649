"""``robots.txt`` and the sitemap, for search engines."""

from __future__ import annotations

from flask import abort
from flask import render_template
from flask import Response
from flask import url_for

from ..page_cache import shared
from ..posts import highest_post_id
from ..posts import published_in_id_range
from ..posts import SITEMAP_POSTS
from .views import bp


@bp.route("/robots.txt")
@shared
def robots() -> Response:
    sitemap = url_for("blog.sitemap_index", _external=True)
    return Response(
        render_template("robots.txt", sitemap=sitemap), mimetype="text/plain"
    )


@bp.route("/sitemap.xml")
@shared
def sitemap_index() -> Response:
    """A sitemap index: one sitemap per range of post ids, so none grows big
    and each is read from the primary key."""
    count = highest_post_id() // SITEMAP_POSTS + 1
    xml = render_template("sitemap_index.xml", sitemaps=range(count))
    return Response(xml, mimetype="application/xml")


@bp.route("/sitemap-<int:number>.xml")
@shared
def sitemap(number: int) -> Response:
    """The published posts whose ids fall in range ``number``."""
    if number > highest_post_id() // SITEMAP_POSTS:
        abort(404)
    start = number * SITEMAP_POSTS
    posts = published_in_id_range(start, start + SITEMAP_POSTS)
    xml = render_template("sitemap.xml", posts=posts, with_home=number == 0)
    return Response(xml, mimetype="application/xml")

"""``robots.txt`` and the sitemap, for search engines."""

from __future__ import annotations

from flask import abort
from flask import render_template
from flask import Response
from flask import url_for

from flaskr.blueprints.blog.views import bp
from flaskr.db import MAX_ID
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.reading.queries import highest_post_id
from flaskr.services.reading.queries import published_in_id_range
from flaskr.services.reading.queries import SITEMAP_POSTS


@bp.route("/robots.txt")
@kept_per_visitor
def robots() -> Response:
    shows_reactions_of(())
    sitemap = url_for("blog.sitemap_index", _external=True)
    return Response(
        render_template("robots.txt", sitemap=sitemap), mimetype="text/plain"
    )


@bp.route("/sitemap.xml")
@kept_per_visitor
def sitemap_index() -> Response:
    """A sitemap index: one sitemap per range of post ids, so none grows big
    and each is read from the primary key."""
    shows_reactions_of(())
    count = highest_post_id() // SITEMAP_POSTS + 1
    xml = render_template("sitemap_index.xml", sitemaps=range(count))
    return Response(xml, mimetype="application/xml")


@bp.route(f"/sitemap-<int(max={MAX_ID // SITEMAP_POSTS}):number>.xml")
@kept_per_visitor
def sitemap(number: int) -> Response:
    """The published posts whose ids fall in range ``number``."""
    shows_reactions_of(())
    if number > highest_post_id() // SITEMAP_POSTS:
        abort(404)
    start = number * SITEMAP_POSTS
    posts = published_in_id_range(start, start + SITEMAP_POSTS)
    xml = render_template("sitemap.xml", posts=posts, with_home=number == 0)
    return Response(xml, mimetype="application/xml")

"""Atom, RSS and JSON Feed feeds of the whole blog, an author, or a tag."""

from __future__ import annotations

import datetime as dt
import email.utils

from flask import json
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import escape
from werkzeug import Response

from flaskr.blueprints.blog.views import bp
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.base.markdown import with_absolute_addresses
from flaskr.services.reading.queries import posts_by
from flaskr.services.reading.queries import posts_tagged
from flaskr.services.reading.queries import published_posts
from flaskr.web.identity import site_identity
from flaskr.web.lookups import get_author
from flaskr.web.lookups import get_tag
from flaskr.web.post_links import post_url

FEED_LENGTH = 20
FEED_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


@bp.app_template_filter("rfc822")
def rfc822(moment: dt.datetime) -> str:
    """A date as RSS wants it: ``Tue, 24 Nov 2026 03:00:00 GMT``."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def last_change(post: Post) -> dt.datetime:
    """When readers last saw the post change: published, or edited after."""
    assert post.published is not None
    if post.updated is not None and post.updated > post.published:
        return post.updated
    return post.published


def feed_response(kind: str, title: str, page_url: str, posts: list[Post]) -> Response:
    """The feed, with an ETag and Last-Modified so readers can poll cheaply
    (a 304 Not Modified when nothing changed)."""
    shows_reactions_of(())  # feeds carry no likes or comments
    updated = max((last_change(post) for post in posts), default=None)
    xml = render_template(
        f"feeds/{kind}.xml",
        title=title,
        page_url=page_url,
        self_url=request.base_url,
        description=site_identity().description,
        posts=posts,
        updated=updated or utcnow(),
    )
    response = Response(xml, mimetype=FEED_TYPES[kind])
    response.add_etag()
    if updated is not None:
        response.last_modified = updated
    return response.make_conditional(request)


def site_title() -> str:
    return site_identity().title


@bp.app_template_global("feed_content")
def feed_content(post: Post) -> str:
    """The post's HTML for a feed entry: its picture first, and every
    address absolute, so feed readers show the pictures."""
    origin = request.host_url.rstrip("/")
    html = post.body_html
    if post.image is not None:
        address = url_for("blog.image", image_id=post.image.id, size="display")
        picture = f'<p><img src="{address}" alt="{escape(post.image.alt)}"></p>'
        html = picture + html
    return with_absolute_addresses(html, origin)


@bp.route("/feed.atom", defaults={"kind": "atom"}, endpoint="feed_atom")
@bp.route("/feed.rss", defaults={"kind": "rss"}, endpoint="feed_rss")
@kept_per_visitor
def site_feed(kind: str) -> Response:
    """The latest posts of the whole blog."""
    posts = published_posts(FEED_LENGTH, with_text=True).posts
    page_url = url_for("blog.index", _external=True)
    return feed_response(kind, site_title(), page_url, posts)


@bp.route("/u/<username>/feed.atom")
@kept_per_visitor
def author_feed(username: str) -> Response:
    """An author's latest posts."""
    author = get_author(username)
    posts = posts_by(author, FEED_LENGTH, with_text=True).posts
    page_url = url_for("blog.author", username=author.username, _external=True)
    title = f"{site_title()}: posts by {author.username}"
    return feed_response("atom", title, page_url, posts)


@bp.route("/tag/<name>/feed.atom")
@kept_per_visitor
def tag_feed(name: str) -> Response:
    """The latest posts with a tag."""
    tag = get_tag(name)
    posts = posts_tagged(tag, FEED_LENGTH, with_text=True).posts
    page_url = url_for("blog.tag", name=tag.name, _external=True)
    title = f"{site_title()}: posts tagged {tag.name}"
    return feed_response("atom", title, page_url, posts)


def json_feed_item(post: Post) -> dict[str, object]:
    """One post as a JSON Feed 1.1 item."""
    assert post.published is not None
    item: dict[str, object] = {
        # The id stays the first address: a slug may change, an id never.
        "id": url_for("blog.post", id=post.id, _external=True),
        "url": post_url(post, _external=True),
        "title": post.title,
        "content_html": feed_content(post),
        "summary": post.excerpt,
        "date_published": post.published.isoformat(),
        "tags": post.tag_names,
    }
    if post.updated is not None and post.updated > post.published:
        item["date_modified"] = post.updated.isoformat()
    if post.author is not None:
        item["authors"] = [
            {
                "name": post.author.shown_name,
                "url": url_for(
                    "blog.author", username=post.author.username, _external=True
                ),
            }
        ]
    if post.image is not None:
        item["image"] = url_for(
            "blog.image", image_id=post.image.id, size="display", _external=True
        )
    return item


@bp.route("/feed.json")
@kept_per_visitor
def json_feed() -> Response:
    """The latest posts as a JSON Feed 1.1 (jsonfeed.org), beside Atom and RSS."""
    posts = published_posts(FEED_LENGTH, with_text=True).posts
    shows_reactions_of(())
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site_title(),
        "home_page_url": url_for("blog.index", _external=True),
        "feed_url": request.base_url,
        "language": "en",
        "description": site_identity().description,
        "items": [json_feed_item(post) for post in posts],
    }
    response = Response(json.dumps(document), mimetype="application/feed+json")
    response.add_etag()
    updated = max((last_change(post) for post in posts), default=None)
    if updated is not None:
        response.last_modified = updated
    return response.make_conditional(request)

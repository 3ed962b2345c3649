"""Ways into the posts: by tag, by author, and by search."""

from __future__ import annotations

from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from ..accounts import find_user
from ..models import Tag
from ..models import User
from ..page_cache import shared
from ..posts import find_tag
from ..posts import posts_by
from ..posts import posts_tagged
from ..search import MAX_PAGE
from ..search import search_posts
from .views import bp
from .views import page_position
from .views import per_page


def get_tag(name: str) -> Tag:
    """:raise 404: no published post has the tag ``name``."""
    tag = find_tag(name)
    if tag is None:
        abort(404, description=f"No post is tagged “{name}”.")
    return tag


def get_author(username: str) -> User:
    """:raise 404: nobody is called ``username``."""
    author = find_user(username)
    if author is None:
        abort(404, description=f"Nobody here is called “{username}”.")
    return author


@bp.route("/tag/<name>")
@shared
def tag(name: str) -> str:
    """List the published posts with a tag, newest first."""
    found = get_tag(name)
    page = posts_tagged(found, per_page(), **page_position())
    return render_template("blog/tag.html", tag=found, page=page)


@bp.route("/u/<username>")
@shared
def author(username: str) -> str | Response:
    """List an author's published posts, newest first."""
    found = get_author(username)
    if found.username != username:
        # One address per author, whatever the letter case typed.
        return redirect(url_for("blog.author", username=found.username), 301)
    page = posts_by(found, per_page(), **page_position())
    return render_template("blog/author.html", author=found, page=page)


@bp.route("/search")
@shared
def search() -> str:
    """Search the published posts' titles and text."""
    text = request.args.get("q", "").strip()
    page_number = request.args.get("page", "1")
    if not page_number.isdigit() or not 1 <= int(page_number) <= MAX_PAGE:
        abort(400, description=f"Pages of results go from 1 to {MAX_PAGE}.")
    results = None
    if text:
        results = search_posts(text, int(page_number), per_page())
    return render_template("blog/search.html", text=text, results=results)

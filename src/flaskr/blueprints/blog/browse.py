"""Ways into the posts: by tag, by author, by month, and by search."""

from __future__ import annotations

import datetime as dt

from flask import abort
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.views import bp
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.reading.navigation import archive
from flaskr.services.reading.navigation import ARCHIVE_TITLES
from flaskr.services.reading.navigation import month_list
from flaskr.services.reading.navigation import tag_counts
from flaskr.services.reading.queries import list_by
from flaskr.services.reading.queries import list_tagged
from flaskr.services.reading.queries import public_count_by
from flaskr.services.reading.search import COUNT_LIMIT
from flaskr.services.reading.search import MAX_PAGE
from flaskr.services.reading.search import search_posts
from flaskr.services.social.follows import is_following
from flaskr.web.cards import post_cards
from flaskr.web.lookups import get_author
from flaskr.web.lookups import get_tag
from flaskr.web.lookups import whole_number
from flaskr.web.page_links import page_position
from flaskr.web.page_links import per_page


@bp.route("/tag/<name>")
@kept_per_visitor
def tag(name: str) -> str:
    """List the published posts with a tag, newest first."""
    found = get_tag(name)
    page = list_tagged(found).stubs(per_page(), **page_position())
    shows_reactions_of(post.id for post in page.posts)
    cards = post_cards(page.posts)
    return render_template("blog/tag.html", tag=found, page=page, cards=cards)


@bp.route("/tags")
@kept_per_visitor
def tags() -> str:
    """Every tag in use, with how many posts carry it."""
    shows_reactions_of(())
    return render_template("blog/tags.html", tags=tag_counts())


@bp.route("/archive", endpoint="archive")
@kept_per_visitor
def archive_page() -> str:
    """The months in which posts came out, by year, with their counts and
    newest titles."""
    shows_reactions_of(())
    return render_template(
        "blog/archive.html", months=archive(), titles_shown=ARCHIVE_TITLES
    )


@bp.route("/archive/<int(min=1, max=9999):year>/<int(min=1, max=12):month>")
@kept_per_visitor
def archive_month(year: int, month: int) -> str:
    """The posts of one month, newest first."""
    page = month_list(year, month).stubs(per_page(), **page_position())
    if not page.posts and not page.newer:
        abort(404, description="No posts came out that month.")
    shows_reactions_of(post.id for post in page.posts)
    return render_template(
        "blog/archive_month.html",
        month=dt.date(year, month, 1),
        page=page,
        cards=post_cards(page.posts),
    )


@bp.route("/u/<username>")
@kept_per_visitor
def author(username: str) -> str | Response:
    """An author's profile, and their published posts, newest first."""
    found = get_author(username)
    if found.username != username:
        # One address per author, whatever the letter case typed.
        return redirect(url_for("blog.author", username=found.username), 301)
    page = list_by(found).stubs(per_page(), **page_position())
    shows_reactions_of(post.id for post in page.posts)
    return render_template(
        "blog/author.html",
        author=found,
        page=page,
        cards=post_cards(page.posts),
        post_count=public_count_by(found),
        following=is_following(g.user, found),
    )


@bp.route("/search")
@kept_per_visitor
def search() -> str:
    """Search the published posts' titles and text."""
    text = request.args.get("q", "").strip()
    page_number = whole_number(request.args.get("page", "1"), 1, MAX_PAGE)
    if page_number is None:
        abort(400, description=f"Pages of results go from 1 to {MAX_PAGE}.")
    # Results show no likes or comments, and are not ranked by them.
    shows_reactions_of(())
    results = None
    if text:
        results = search_posts(text, page_number, per_page())
    return render_template(
        "blog/search.html",
        text=text,
        results=results,
        search_count_limit=COUNT_LIMIT,
    )

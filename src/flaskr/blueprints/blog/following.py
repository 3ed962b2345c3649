"""Following writers: the button, who follows whom, and the Following page."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug import Response

from flaskr.blueprints.blog.views import bp
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.social.follows import follow
from flaskr.services.social.follows import followed_by
from flaskr.services.social.follows import followers_of
from flaskr.services.social.follows import following_list
from flaskr.services.social.follows import SelfFollowError
from flaskr.services.social.follows import unfollow
from flaskr.web.cards import post_cards
from flaskr.web.lookups import get_author
from flaskr.web.page_links import page_position
from flaskr.web.page_links import per_page
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.users import login_required
from flaskr.web.users import safe_next

#: Followers or followed writers listed per page.
PEOPLE_PER_PAGE = 50


@bp.route("/u/<username>/follow", methods=["POST"])
@login_required
def follow_author(username: str) -> Response:
    """Follow (``following=yes``) or stop following (``following=no``) a
    writer, then go back to the page the button was on."""
    author = get_author(username)
    if not ButtonForm().validate():
        abort(400)
    wanted = request.form.get("following") != "no"
    try:
        changed = follow(g.user, author) if wanted else unfollow(g.user, author)
    except SelfFollowError as error:
        abort(400, description=str(error))
    if changed:
        flash(
            f"You follow {author.shown_name}: their posts are on your Following page."
            if wanted
            else f"You no longer follow {author.shown_name}."
        )
    back = safe_next(request.form.get("next", ""))
    return redirect(back or url_for("blog.author", username=author.username))


@bp.route("/following")
@login_required
@kept_per_visitor
def following() -> str:
    """The newest posts of the writers the reader follows."""
    page = following_list(g.user).stubs(per_page(), **page_position())
    shows_reactions_of(post.id for post in page.posts)
    cards = post_cards(page.posts)
    return render_template("blog/following.html", page=page, cards=cards)


def _people_page(username: str, *, followers: bool) -> str | Response:
    shows_reactions_of(())
    author = get_author(username)
    endpoint = "blog.followers" if followers else "blog.followed"
    if author.username != username:
        return redirect(url_for(endpoint, username=author.username), 301)
    before = page_position()["before"]
    lister = followers_of if followers else followed_by
    page = lister(author, PEOPLE_PER_PAGE, before=before)
    return render_template(
        "blog/people.html",
        author=author,
        page=page,
        followers=followers,
        endpoint=endpoint,
    )


@bp.route("/u/<username>/followers")
@kept_per_visitor
def followers(username: str) -> str | Response:
    """Who follows a writer, most recent first."""
    return _people_page(username, followers=True)


@bp.route("/u/<username>/following", endpoint="followed")
@kept_per_visitor
def followed(username: str) -> str | Response:
    """Whom a writer follows, most recent first."""
    return _people_page(username, followers=False)

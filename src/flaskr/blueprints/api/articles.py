"""Articles, comments, favorites and tags in the JSON API: the HTML site's
posts, comments and likes, through the same services."""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from werkzeug import Response
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import NotFound

from flaskr.blueprints.api.core import bp
from flaskr.blueprints.api.core import page_limit
from flaskr.blueprints.api.core import page_offset
from flaskr.blueprints.api.core import read_body
from flaskr.blueprints.api.core import text_field
from flaskr.blueprints.api.core import token_required
from flaskr.blueprints.api.core import whole_number_argument
from flaskr.blueprints.api.schemas import articles_json
from flaskr.blueprints.api.schemas import comments_json
from flaskr.db import MAX_ID
from flaskr.models import Post
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts.directory import find_user
from flaskr.services.base.errors import Invalid
from flaskr.services.base.paging import Cursor
from flaskr.services.base.paging import InvalidCursorError
from flaskr.services.content import access
from flaskr.services.content import lifecycle
from flaskr.services.content import rules
from flaskr.services.content import writing
from flaskr.services.reading.navigation import public_tag_names
from flaskr.services.reading.post_lists import count_posts
from flaskr.services.reading.post_lists import list_posts
from flaskr.services.reading.post_lists import ListPage
from flaskr.services.reading.post_lists import PostFilter
from flaskr.services.reading.search import search_posts
from flaskr.services.reading.search import search_terms
from flaskr.services.social.reactions import add_comment
from flaskr.services.social.reactions import comments_on
from flaskr.services.social.reactions import delete_comment
from flaskr.services.social.reactions import get_comment
from flaskr.services.social.reactions import may_delete
from flaskr.services.social.reactions import set_like
from flaskr.web.site_links import post_site_link

Json = dict[str, t.Any]


def _list_response(which: PostFilter | None) -> Response:
    """A page of articles: ``limit`` and ``offset`` (bounded), or ``before``
    (the ``next`` link of the page before, at any depth)."""
    limit, offset = page_limit(), page_offset()
    before_text = request.args.get("before")
    before = None
    if before_text is not None:
        try:
            before = Cursor.parse(before_text)
        except InvalidCursorError:
            raise Invalid.of(
                "before", "before must be a next link's position."
            ) from None
    if which is None:  # a filter names something that does not exist
        page, count = ListPage(posts=[], older=None), 0
    else:
        page = list_posts(which, limit, offset=offset, before=before)
        count = count_posts(which)
    if which is None or which.liked_by is None:
        # Otherwise which posts are listed depends on likes too.
        shows_reactions_of(post.id for post in page.posts)
    next_link = None
    if page.older is not None:
        arguments = {
            name: value
            for name, value in request.args.items()
            if name not in ("offset", "before")
        }
        next_link = url_for(
            t.cast(str, request.endpoint),
            **arguments,
            before=str(page.older),
            _external=True,
        )
    return jsonify(
        {
            "articles": articles_json(page.posts, g.user),
            "articlesCount": count,
            "next": next_link,
        }
    )


def _filter_from_arguments() -> PostFilter | None:
    """The filter ``tag``, ``author`` and ``favorited`` ask for; ``None`` if
    one names a tag or user that does not exist (an empty list)."""
    parts: dict[str, t.Any] = {}
    tag_name = request.args.get("tag")
    if tag_name is not None:
        tag = access.find_tag(rules.normalize_tag(tag_name))
        if tag is None:
            return None
        parts["tag"] = tag
    for argument, part in (("author", "author"), ("favorited", "liked_by")):
        username = request.args.get(argument)
        if username is not None:
            user = find_user(username)
            if user is None or user.state in WITHDRAWN_STATES:
                return None
            parts[part] = user
    return PostFilter(**parts)


@bp.route("/articles")
@kept_per_visitor
def list_articles() -> Response:
    """The newest public articles, filtered by ``tag``, ``author`` and
    ``favorited`` (a username), or found by the words of ``q``."""
    query = request.args.get("q")
    if query is not None:
        return _search_response(query)
    return _list_response(_filter_from_arguments())


def _search_response(query: str) -> Response:
    """Articles matching every word of ``q``, as the search page ranks them
    (titles first): ``limit`` and ``offset`` only."""
    if any(name in request.args for name in ("tag", "author", "favorited", "before")):
        raise Invalid.of(
            "q", "q cannot be combined with tag, author, favorited or before."
        )
    if not search_terms(query):
        raise Invalid.of("q", "q must contain a word to search for.")
    limit, offset = page_limit(), page_offset()
    if offset % limit:
        raise Invalid.of("offset", "With q, offset must be a multiple of limit.")
    found = search_posts(query, offset // limit + 1, limit)
    found_posts = [access.get_post(hit.post.id) for hit in found.hits]
    shows_reactions_of(hit.post.id for hit in found.hits)
    return jsonify(
        {
            "articles": articles_json([p for p in found_posts if p], g.user),
            "articlesCount": found.about,
            "next": None,
        }
    )


@bp.route("/articles/feed")
@token_required
def feed() -> Response:
    """The newest public articles of the writers the token's user follows."""
    return _list_response(PostFilter(followed_by=g.user))


@bp.route("/user/drafts")
@token_required
def drafts() -> Response:
    """The token's user's drafts and scheduled posts, most recently written
    first (Flaskr's own)."""
    found = access.drafts_of(g.user)
    return jsonify(
        {
            "articles": articles_json(found, g.user),
            "articlesCount": len(found),
            "next": None,
        }
    )


def _readable(slug: str) -> Post:
    """The article at ``slug``, if the token's user may read it.

    :raise 404: no such article, or a draft of someone else's.
    """
    post_id = access.find_post_id(slug)
    post = access.get_readable_post(post_id, g.user) if post_id is not None else None
    if post is None:
        raise NotFound(f"There is no article {slug}.")
    return post


def _public(slug: str) -> Post:
    """:raise 404: no public article has that slug (drafts take no likes or
    comments)."""
    post = _readable(slug)
    if not post.is_public:
        raise NotFound(f"There is no article {slug}.")
    return post


def _article_response(post: Post, status: int = 200) -> Response:
    [article] = articles_json([post], g.user, with_body=True)
    response = jsonify({"article": article})
    response.status_code = status
    return response


@bp.route("/articles/<slug>")
def article(slug: str) -> Response:
    """One article with its text; drafts only for their author's token."""
    return _article_response(_readable(slug))


def _tag_list(fields: t.Mapping[str, t.Any]) -> list[str] | None:
    tags = fields.get("tagList")
    if tags is None:
        return None
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise Invalid.of("tagList", "tagList must be a list of strings.")
    if any("," in tag for tag in tags):
        raise Invalid.of("tagList", "A tag must not contain a comma.")
    return tags


def _flag(fields: t.Mapping[str, t.Any], name: str) -> bool | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, bool):
        raise Invalid.of(name, f"{name} must be true or false.")
    return value


#: The post's fields as the API names them, where its name differs.
_API_FIELDS = {"summary": "description", "tags": "tagList"}


def _refused(error: Invalid) -> Invalid:
    """A use case's refusal as the API's 422, by the API's field names."""
    problems = error.problems
    return Invalid({_API_FIELDS.get(name, name): problems[name] for name in problems})


@bp.route("/articles", methods=["POST"])
@token_required
def create_article() -> Response:
    """Write an article: published unless ``"published": false`` (a draft).
    A contributor's article is a draft submitted for review, not published;
    a reader's is refused (403)."""
    fields = read_body("article")
    title = text_field(fields, "title", required=True) or ""
    body = text_field(fields, "body", required=True) or ""
    summary = text_field(fields, "description", required=True) or ""
    slug = text_field(fields, "slug") or ""
    tags = _tag_list(fields) or []
    publish = _flag(fields, "published")
    mail = _flag(fields, "mailSubscribers")
    try:
        post = writing.create_post(
            g.user,
            title,
            body,
            tags=tags,
            publish=publish is not False,
            summary=summary,
            slug=slug,
            mail_subscribers=mail is not False,
        )
    except Invalid as error:
        raise _refused(error) from None
    return _article_response(post, 201)


@bp.route("/articles/<slug>", methods=["PUT"])
@token_required
def update_article(slug: str) -> Response:
    """Change an article's title, description, text, tags, slug; publish a
    draft (``"published": true``) or take an article back to the drafts
    (``false``). The slug stays unless a new one is sent: links keep working.
    Its writer or an editor may (403 for others)."""
    post = _readable(slug)
    fields = read_body("article")
    title = text_field(fields, "title")
    body = text_field(fields, "body")
    summary = text_field(fields, "description")
    new_slug = text_field(fields, "slug")
    tags = _tag_list(fields)
    publish = _flag(fields, "published")
    mail = _flag(fields, "mailSubscribers")
    try:
        writing.update_post(
            g.user,
            post,
            post.title if title is None else title,
            post.body if body is None else body,
            tags=post.tag_names if tags is None else tags,
            summary=post.summary if summary is None else summary,
            slug=new_slug or "",
            publish=publish is True,
            to_draft=publish is False,
            unpublish=publish is False,
            mail_subscribers=mail,
        )
    except Invalid as error:
        raise _refused(error) from None
    return _article_response(post)


@bp.route("/articles/<slug>", methods=["DELETE"])
@token_required
def delete_article(slug: str) -> tuple[str, int]:
    """Move an article to its author's trash, as the site's Delete does: it
    can be restored there for ``TRASH_DAYS``. Its writer or an editor may."""
    lifecycle.move_to_trash(g.user, _readable(slug))
    return "", 204


@bp.route("/articles/<slug>/favorite", methods=["POST", "DELETE"])
@token_required
def favorite(slug: str) -> Response:
    """Like an article (POST) or stop liking it (DELETE); again: no change."""
    post = _public(slug)
    set_like(g.user, post, liked=request.method == "POST")
    return _article_response(post)


@bp.route("/articles/<slug>/comments")
@kept_per_visitor
def comments(slug: str) -> Response:
    """An article's comments, oldest first: ``limit`` of them (100 unless
    asked) after the comment ``after`` (an id)."""
    post = _readable(slug)
    limit = whole_number_argument("limit", 100, 1, current_app.config["API_PAGE_LIMIT"])
    after = whole_number_argument("after", 0, 0, MAX_ID) or None
    shows_reactions_of([post.id])
    found = comments_on(post, limit, after=after, viewer=g.user)[:limit]
    return jsonify({"comments": comments_json(found, g.user)})


@bp.route("/articles/<slug>/comments", methods=["POST"])
@limiter.limit(lambda: current_app.config["COMMENT_LIMITS"])
@token_required
def add_comment_view(slug: str) -> Response:
    """Comment on a public article; its writer is mailed as for the site's
    form. The policy and the hold rules apply: a held comment answers as any
    other, with ``"state": "held"``; a closed post or site answers 403."""
    post = _public(slug)
    body = text_field(read_body("comment"), "body", required=True) or ""
    link = post_site_link(post, _anchor="comments")
    try:
        added = add_comment(post, g.user, body, post_link=link)
    except Invalid as error:
        raise _refused(error) from None
    [shown] = comments_json([added], g.user)
    return jsonify({"comment": shown})


@bp.route("/articles/<slug>/comments/<id:comment_id>", methods=["DELETE"])
@token_required
def delete_comment_view(slug: str, comment_id: int) -> tuple[str, int]:
    """Delete a comment: its writer and the article's author may."""
    post = _readable(slug)
    found = get_comment(comment_id)
    if found is None or found.post_id != post.id:
        raise NotFound("That comment doesn't exist.")
    if not may_delete(g.user, found, post):
        raise Forbidden("Only its writer and the article's author may delete it.")
    delete_comment(found)
    return "", 204


@bp.route("/tags")
@kept_per_visitor
def tags() -> Response:
    """Every tag on a public post, the most used first."""
    shows_reactions_of(())
    return jsonify({"tags": public_tag_names()})

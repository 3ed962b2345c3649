"""Find what a URL names, or answer 404 (missing) or 403 (someone else's)."""

from __future__ import annotations

import typing as t

from flask import abort
from flask import g
from flask import redirect
from flask import request
from flask import url_for
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map
from werkzeug.routing import UnicodeConverter

from flaskr.db import MAX_ID
from flaskr.models import Post
from flaskr.models import Tag
from flaskr.models import User
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.directory import former_holder
from flaskr.services.content.access import find_post_id
from flaskr.services.content.access import find_tag
from flaskr.services.content.access import get_post
from flaskr.services.content.access import get_readable_post
from flaskr.services.content.editorial import check_may_edit


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id, 1 to the database's largest. Anything else
    (0, a sign, a number past 64 bits) matches no route: a 404, never a
    database error."""

    def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(map, min=1, max=MAX_ID)


class TextConverter(UnicodeConverter):
    """Werkzeug's default converter (``<name>``, ``<string:name>``), without
    control characters: no tag or username has them, and PostgreSQL refuses
    a NUL in a query's text (a database error, not a "not found")."""

    def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]", 1)


#: The converter for post ids in routes (``f"/<{POST_ID}:id>"``).
POST_ID = "id"


def query_id(name: str) -> int | None:
    """The id in the query string's ``name``, or ``None`` if it is absent.

    :raise 400: not an id (not digits, or out of the database's range).
    """
    text = request.args.get(name)
    if text is None:
        return None
    number = whole_number(text, 1, MAX_ID)
    if number is None:
        abort(400, description="That link is not valid.")
    return number


def whole_number(text: str, lowest: int, highest: int) -> int | None:
    """``text`` as a number from ``lowest`` to ``highest``; ``None`` if it is
    anything else (a sign, a space, a digit of another script)."""
    # The length check comes first: ``int`` refuses very long digit strings.
    if len(text) > len(str(highest)) or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if lowest <= number <= highest else None


def get_editable_post(post_id: int, *, in_trash: bool = False) -> Post:
    """The post with this id, if the logged-in user may change it: its
    writer, or an editor (``services/content/editorial.py``).

    :param in_trash: look in the trash instead of among the other posts.
    :raise 404: no such post (where it was looked for).
    :raise NotAllowed: (a 403) someone else's, or the role does not allow it.
    """
    post = get_post(post_id)
    if post is None or (post.deleted is not None) != in_trash:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    check_may_edit(g.user, post)
    return post


def get_readable_post_or_404(post_id: int) -> Post:
    """The post with this id, if the one asking may read it.

    :raise 404: no such post, or a draft of someone else's.
    """
    post = get_readable_post(post_id, g.user)
    if post is None:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    return post


def get_readable_post_by_slug_or_404(slug: str) -> Post:
    """The post at ``/p/<slug>``, if the one asking may read it.

    :raise 404: no such post, or a draft of someone else's.
    """
    post_id = find_post_id(slug)
    if post_id is None:
        abort(404, description=f"No post is at “{slug}”.")
    return get_readable_post_or_404(post_id)


def get_tag(name: str) -> Tag:
    """:raise 404: no published post has the tag ``name``."""
    tag = find_tag(name)
    if tag is None:
        abort(404, description=f"No post is tagged “{name}”.")
    return tag


def get_author(username: str) -> User:
    """The user called ``username``, for a view with a ``username`` argument.

    :raise 302: the name was given up by a recent rename: to the same page
        under the new name.
    :raise 404: nobody is called ``username``, or the account is suspended
        or removed (withdrawn from readers).
    """
    author = find_user(username)
    if author is not None and author.state in WITHDRAWN_STATES:
        abort(404, description=f"Nobody here is called “{username}”.")
    if author is not None:
        return author
    renamed = former_holder(username)
    if renamed is not None and request.endpoint is not None:
        # Temporary: once the hold ends, someone else may take the old name.
        # The query string comes along; names url_for reads itself do not.
        query = {k: v for k, v in request.args.items() if not k.startswith("_")}
        arguments = {**query, **(request.view_args or {}), "username": renamed.username}
        target = url_for(request.endpoint, **arguments)
        abort(redirect(target, 302))
    abort(404, description=f"Nobody here is called “{username}”.")

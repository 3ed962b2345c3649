"""Page links (``?before=`` and ``?after=``) and page sizes of lists of posts."""

from __future__ import annotations

import typing as t

from flask import abort
from flask import current_app
from flask import request

from flaskr.services.base.paging import Cursor
from flaskr.services.base.paging import InvalidCursorError


class PagePosition(t.TypedDict):
    """Where a page of a list starts: before one post, after one, or at the top."""

    before: Cursor | None
    after: Cursor | None


def page_position() -> PagePosition:
    """The ``before`` and ``after`` page links of the request, read.

    :raise 400: a link that Flaskr did not make.
    """
    return PagePosition(before=_cursor("before"), after=_cursor("after"))


def _cursor(name: str) -> Cursor | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return Cursor.parse(text)
    except InvalidCursorError:
        abort(400, description="That page link is not valid.")


def per_page() -> int:
    """How many posts a page of a list shows."""
    return int(current_app.config["POSTS_PER_PAGE"])

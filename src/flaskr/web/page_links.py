"""Page links (``?before=`` and ``?after=``) and page sizes of lists of posts."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import request

from flaskr.services.paging import Cursor
from flaskr.services.paging import InvalidCursorError


def page_position() -> dict[str, Cursor | None]:
    """The ``before`` and ``after`` page links of the request, read.

    :raise 400: a link that Flaskr did not make.
    """
    position: dict[str, Cursor | None] = {}
    for name in ("before", "after"):
        text = request.args.get(name)
        try:
            position[name] = Cursor.parse(text) if text is not None else None
        except InvalidCursorError:
            abort(400, description="That page link is not valid.")
    return position


def per_page() -> int:
    """How many posts a page of a list shows."""
    return int(current_app.config["POSTS_PER_PAGE"])

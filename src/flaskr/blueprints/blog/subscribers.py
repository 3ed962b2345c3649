"""A writer's subscribers: how many follow them by mail, and (when the site
allows it) who, with removal, CSV export and import."""

from __future__ import annotations

import functools
import typing as t

from flask import abort
from flask import g
from werkzeug import Response

from flaskr.blueprints.blog.views import bp
from flaskr.plumbing.throttle import limiter
from flaskr.services.base import roles
from flaskr.web import subscriber_pages
from flaskr.web.users import login_required

View = t.Callable[..., t.Any]

#: Imports per client address: each one mails up to a file's worth of people.
IMPORT_LIMITS = "10 per hour"


def writers_only(view: View) -> View:
    """Visitors go to the login page; readers get a 403."""

    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if not roles.may_write(g.user):
            abort(403)
        return view(**kwargs)

    return login_required(wrapped_view)


@bp.route("/subscribers", endpoint="subscribers")
@writers_only
def subscribers() -> tuple[str, int]:
    """Your subscribers: how many, and who when the site shows writers."""
    return subscriber_pages.subscribers_page(g.user, "blog")


@bp.route("/subscribers.csv", endpoint="export_subscribers")
@writers_only
def export_subscribers() -> Response:
    """Your subscribers as a CSV file."""
    return subscriber_pages.csv_download(g.user, g.user.username)


@bp.route("/subscribers/import", methods=["POST"], endpoint="import_subscribers")
@limiter.limit(IMPORT_LIMITS)
@writers_only
def import_subscribers() -> Response | tuple[str, int]:
    """Mail each new address of a CSV file a link to subscribe to you."""
    return subscriber_pages.import_subscribers(g.user, "blog")


@bp.route(
    "/subscribers/<id:subscriber_id>/remove",
    methods=["POST"],
    endpoint="remove_subscriber",
)
@writers_only
def remove_subscriber(subscriber_id: int) -> Response | tuple[str, int]:
    """Stop mailing your posts to one subscriber."""
    return subscriber_pages.remove_subscriber(g.user, "blog", subscriber_id)

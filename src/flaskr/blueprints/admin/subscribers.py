"""Every subscriber of the site, for administrators: the count, the list
with what each follows, removal (audited), CSV export and import (invitations
to follow the whole site)."""

from __future__ import annotations

from werkzeug import Response

from flaskr.blueprints.admin.views import bp
from flaskr.plumbing.throttle import limiter
from flaskr.web import subscriber_pages
from flaskr.web.users import admin_required

#: Imports per client address: each one mails up to a file's worth of people.
IMPORT_LIMITS = "10 per hour"


@bp.route("/subscribers", endpoint="subscribers")
@admin_required
def subscribers() -> tuple[str, int]:
    """The site's subscribers, searched, newest first."""
    return subscriber_pages.subscribers_page(None, "admin")


@bp.route("/subscribers.csv", endpoint="export_subscribers")
@admin_required
def export_subscribers() -> Response:
    """Every subscriber as a CSV file."""
    return subscriber_pages.csv_download(None, "site")


@bp.route("/subscribers/import", methods=["POST"], endpoint="import_subscribers")
@limiter.limit(IMPORT_LIMITS)
@admin_required
def import_subscribers() -> Response | tuple[str, int]:
    """Mail each new address of a CSV file a link to follow the site."""
    return subscriber_pages.import_subscribers(None, "admin")


@bp.route(
    "/subscribers/<id:subscriber_id>/remove",
    methods=["POST"],
    endpoint="remove_subscriber",
)
@admin_required
def remove_subscriber(subscriber_id: int) -> Response | tuple[str, int]:
    """Remove a subscriber from everything it follows."""
    return subscriber_pages.remove_subscriber(None, "admin", subscriber_id)

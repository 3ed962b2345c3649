"""What every page shows of the site: its title, description, icon, and
whether it has an About page (``services.site``).

Read once per request, when a template first asks: one primary-key
statement. It is not read with the page cache's version, which would make
every page served from the cache dearer for the few that are rendered.
"""

from __future__ import annotations

from flask import current_app
from flask import Flask
from flask import g
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.local import LocalProxy

from flaskr.db import db
from flaskr.services.base.site import identity_from_row
from flaskr.services.base.site import read_identity
from flaskr.services.base.site import SiteIdentity


def site_identity() -> SiteIdentity:
    """The site's identity as of this request."""
    if "site_identity" in g:
        return g.site_identity  # type: ignore[no-any-return]
    default_title = current_app.config["SITE_TITLE"]
    try:
        identity = read_identity(default_title)
    except SQLAlchemyError:
        # The error page for a database that fails must still render.
        db.session.rollback()
        return identity_from_row(None, default_title)
    g.site_identity = identity
    return identity


def init_app(app: Flask) -> None:
    # Read when a template first asks, not for templates that never do.
    lazy_identity = LocalProxy(site_identity)
    app.context_processor(lambda: {"site": lazy_identity})

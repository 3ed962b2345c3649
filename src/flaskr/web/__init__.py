"""The web floor: what every blueprint stands on.

The logged-in user (``g.user``) and ``login_required``, id converters, page
links, look-ups that answer 404 or 403, the forms' shared parts, and the
mapping from the services' domain errors to HTTP. Blueprints import this and
the services, never each other.
"""

from __future__ import annotations

from flask import Flask

from flaskr.services.base import roles
from flaskr.services.content import editorial
from flaskr.services.content.rules import reading_minutes
from flaskr.web import cards
from flaskr.web import errors
from flaskr.web import identity
from flaskr.web import lookups
from flaskr.web import post_links
from flaskr.web import times
from flaskr.web import users


def init_app(app: Flask) -> None:
    """Load ``g.user`` for each request; answer domain errors with HTTP errors."""
    app.url_map.converters["id"] = lookups.IdConverter
    app.url_map.converters["default"] = lookups.TextConverter
    app.url_map.converters["string"] = lookups.TextConverter
    app.add_template_filter(times.local_time, "local_time")
    app.add_template_filter(times.human_date, "human_date")
    app.add_template_filter(times.short_date, "short_date")
    app.add_template_filter(times.time_tag, "time_tag")
    app.add_template_filter(times.month_tag, "month_tag")
    app.add_template_global(reading_minutes, "reading_minutes")
    # What the role of ``g.user`` allows, to hide controls the services would
    # refuse anyway: ``may_write(g.user)``, ``may_edit(g.user, post)``.
    for question in (
        roles.may_write,
        roles.may_publish,
        roles.may_moderate,
        roles.may_govern,
        editorial.may_edit,
    ):
        app.add_template_global(question)
    users.init_app(app)
    identity.init_app(app)
    post_links.init_app(app)
    cards.init_app(app)
    errors.init_app(app)

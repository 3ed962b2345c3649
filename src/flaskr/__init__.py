"""Flaskr: the Flask tutorial's blog, built to run on the internet."""

from __future__ import annotations

import os
import typing as t

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from flaskr import cli
from flaskr import config
from flaskr import db
from flaskr import schema
from flaskr import web
from flaskr.plumbing import background
from flaskr.plumbing import errors
from flaskr.plumbing import operations
from flaskr.plumbing import outbox
from flaskr.plumbing import page_cache
from flaskr.plumbing import protection
from flaskr.plumbing import read_only
from flaskr.plumbing import server_sessions
from flaskr.plumbing import throttle
from flaskr.services.accounts import directory as accounts
from flaskr.services.base import events
from flaskr.services.base import mail
from flaskr.services.base import security_log

csrf = CSRFProtect()


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Create and configure an instance of the Flask application.

    :param test_config: settings to use instead of the instance ``config.py``
        and the ``FLASKR_*`` environment variables.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("FLASKR_INSTANCE_PATH"),
    )
    config.load(app, test_config)

    db.init_app(app)
    schema.init_app(app)
    read_only.init_app(app)
    accounts.init_app(app)
    errors.init_app(app)
    operations.init_app(app)
    outbox.init_app(app)
    background.init_app(app)
    page_cache.init_app(app)  # before protection wraps the app in ProxyFix
    protection.init_app(app)
    csrf.init_app(app)
    throttle.init_app(app)
    server_sessions.init_app(app)
    security_log.init_app(app)
    cli.init_app(app)
    for logger in (
        operations.access_logger,
        security_log.logger,
        mail.mail_logger,
        events.event_logger,
        background.logger,
    ):
        operations.write_lines_to_stderr(logger)

    @app.route("/hello")
    def hello() -> str:
        return "Hello, World!"

    from flaskr.blueprints import admin
    from flaskr.blueprints import api
    from flaskr.blueprints import auth
    from flaskr.blueprints import blog
    from flaskr.blueprints import federation
    from flaskr.blueprints import fediverse

    web.init_app(app)  # g.user is loaded after the hooks above have run
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(fediverse.bp)
    # The API authenticates by token and ignores cookies: nothing to forge.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    # Remote servers sign their requests (HTTP Signatures) and have no cookie.
    csrf.exempt(federation.bp)
    app.register_blueprint(federation.bp)
    # The tutorial's url_for("index") keeps working next to url_for("blog.index").
    app.add_url_rule("/", endpoint="index")
    return app

"""Following remote accounts, reading their posts, replying to them."""

from __future__ import annotations

from flaskr.blueprints.fediverse.views import bp  # noqa: F401

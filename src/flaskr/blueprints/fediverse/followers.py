"""A writer's followers from the fediverse: listed, approved, removed."""

from __future__ import annotations

from flaskr.blueprints.fediverse.views import bp  # noqa: F401

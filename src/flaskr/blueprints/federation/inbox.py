"""The inboxes: each writer's and the shared one."""

from __future__ import annotations

from flaskr.blueprints.federation.views import bp  # noqa: F401

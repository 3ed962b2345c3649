"""WebFinger, NodeInfo, host-meta, and the actors' and objects' JSON."""

from __future__ import annotations

from flaskr.blueprints.federation.views import bp  # noqa: F401

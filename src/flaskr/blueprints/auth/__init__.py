"""Registering, logging in and out."""

from flaskr.blueprints.auth import account_page  # noqa: F401 (its views register themselves on bp)
from flaskr.blueprints.auth.views import bp

__all__ = ["bp"]

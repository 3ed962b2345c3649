"""Registering, logging in and out."""

from . import account  # noqa: F401 (its views register themselves on bp)
from .views import bp
from .views import login_required

__all__ = ["bp", "login_required"]

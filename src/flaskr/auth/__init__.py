"""Registering, logging in and out."""

from .views import bp
from .views import login_required

__all__ = ["bp", "login_required"]

"""The administrator's pages: the site's identity, where later moderation
tools will join."""

from flaskr.blueprints.admin.views import bp

__all__ = ["bp"]

"""The administrator's pages: the site's identity, where later moderation
tools will join."""

# The users page's routes join the same blueprint when imported.
from flaskr.blueprints.admin import members as members
from flaskr.blueprints.admin.views import bp

__all__ = ["bp"]

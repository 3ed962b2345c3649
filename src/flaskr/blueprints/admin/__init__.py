"""The administrator's pages: the site's identity, who may join and the
invitations, where later moderation tools will join."""

# Their views register themselves on bp.
from flaskr.blueprints.admin import invitations  # noqa: F401
from flaskr.blueprints.admin.views import bp

__all__ = ["bp"]

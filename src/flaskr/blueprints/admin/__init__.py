"""The administrator's pages: the site's identity, who may join and the
invitations, where later moderation tools will join."""

# The users page's routes join the same blueprint when imported.
# Their views register themselves on bp.
from flaskr.blueprints.admin import federation  # noqa: F401
from flaskr.blueprints.admin import invitations  # noqa: F401
from flaskr.blueprints.admin import members as members
from flaskr.blueprints.admin import subscribers  # noqa: F401
from flaskr.blueprints.admin.views import bp

__all__ = ["bp"]

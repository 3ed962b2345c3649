"""ActivityPub: discovery, the actors and their objects, and the inboxes
(``services/federation``)."""

# Their views register themselves on bp when imported.
from flaskr.blueprints.federation import discovery  # noqa: F401
from flaskr.blueprints.federation import inbox  # noqa: F401
from flaskr.blueprints.federation import replies_view  # noqa: F401
from flaskr.blueprints.federation.views import bp

__all__ = ["bp"]

"""People's fediverse pages: followers from elsewhere, remote accounts
followed, their posts (``services/federation``)."""

# Their views register themselves on bp when imported.
from flaskr.blueprints.fediverse import followers  # noqa: F401
from flaskr.blueprints.fediverse import reading  # noqa: F401
from flaskr.blueprints.fediverse.views import bp

__all__ = ["bp"]

"""The JSON API at ``/api``: RealWorld's ("Conduit") API over Flaskr's services,
with Flaskr's own additions, described at ``/api/openapi.json``."""

from flaskr.blueprints.api import articles  # noqa: F401 (its views register themselves on bp)
from flaskr.blueprints.api import openapi  # noqa: F401
from flaskr.blueprints.api import users  # noqa: F401
from flaskr.blueprints.api.core import bp

__all__ = ["bp"]

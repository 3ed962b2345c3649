"""Registering, logging in and out, the account and its profile."""

# Their views register themselves on bp.
from flaskr.blueprints.auth import account_page  # noqa: F401
from flaskr.blueprints.auth import passkey_pages  # noqa: F401
from flaskr.blueprints.auth import profile_pages  # noqa: F401
from flaskr.blueprints.auth import recovery_pages  # noqa: F401
from flaskr.blueprints.auth import security_pages  # noqa: F401
from flaskr.blueprints.auth.views import bp

__all__ = ["bp"]

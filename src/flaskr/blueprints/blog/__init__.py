"""The blog: reading posts (by date, tag, author, search, feed) and writing them."""

from flaskr.blueprints.blog import browse  # noqa: F401 (its views register themselves on bp)
from flaskr.blueprints.blog import editor  # noqa: F401
from flaskr.blueprints.blog import feeds  # noqa: F401
from flaskr.blueprints.blog import following  # noqa: F401
from flaskr.blueprints.blog import history  # noqa: F401
from flaskr.blueprints.blog import likes_and_comments  # noqa: F401
from flaskr.blueprints.blog import media  # noqa: F401
from flaskr.blueprints.blog import moderation  # noqa: F401
from flaskr.blueprints.blog import pictures  # noqa: F401
from flaskr.blueprints.blog import review  # noqa: F401
from flaskr.blueprints.blog import site_pages  # noqa: F401
from flaskr.blueprints.blog import sitemap  # noqa: F401
from flaskr.blueprints.blog import subscribe_pages  # noqa: F401
from flaskr.blueprints.blog import subscribers  # noqa: F401
from flaskr.blueprints.blog import trash  # noqa: F401
from flaskr.blueprints.blog.views import bp

__all__ = ["bp"]

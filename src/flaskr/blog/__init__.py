"""The blog: reading posts (by date, tag, author, search, feed) and writing them."""

from . import browse  # noqa: F401 (its views register themselves on bp)
from . import feeds  # noqa: F401
from . import pictures  # noqa: F401
from . import reactions  # noqa: F401
from . import sitemap  # noqa: F401
from . import trash  # noqa: F401
from .views import bp

__all__ = ["bp"]

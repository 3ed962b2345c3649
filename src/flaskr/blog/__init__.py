"""The blog: the index of posts, and writing, editing and deleting them."""

from .views import bp

__all__ = ["bp"]

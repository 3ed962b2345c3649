"""People's pages about the fediverse: a writer's followers from elsewhere,
and the remote accounts a user follows, their posts and replies to them.
Forms here carry CSRF tokens, as every form of the site does."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("fediverse", __name__, url_prefix="/fediverse")

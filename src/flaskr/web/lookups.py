"""Find what a URL names, or answer 404 (missing) or 403 (someone else's)."""

from __future__ import annotations

from flask import abort
from flask import g

from flaskr.db import MAX_ID
from flaskr.models import Post
from flaskr.models import Tag
from flaskr.models import User
from flaskr.services.accounts import find_user
from flaskr.services.posts import find_tag
from flaskr.services.posts import get_post
from flaskr.services.posts import get_readable_post

#: URL converter for a post id: numbers past the database's range are a 404.
POST_ID = f"int(max={MAX_ID})"


def get_own_post(post_id: int, *, in_trash: bool = False) -> Post:
    """The post with this id, if the logged-in user wrote it.

    :param in_trash: look in the trash instead of among the other posts.
    :raise 404: no such post (where it was looked for).
    :raise 403: someone else wrote it.
    """
    post = get_post(post_id)
    if post is None or (post.deleted is not None) != in_trash:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    if post.author_id != g.user.id:
        abort(403)
    return post


def get_readable_post_or_404(post_id: int) -> Post:
    """The post with this id, if the one asking may read it.

    :raise 404: no such post, or a draft of someone else's.
    """
    post = get_readable_post(post_id, g.user)
    if post is None:
        abort(404, description=f"Post id {post_id} doesn't exist.")
    return post


def get_tag(name: str) -> Tag:
    """:raise 404: no published post has the tag ``name``."""
    tag = find_tag(name)
    if tag is None:
        abort(404, description=f"No post is tagged “{name}”.")
    return tag


def get_author(username: str) -> User:
    """:raise 404: nobody is called ``username``."""
    author = find_user(username)
    if author is None:
        abort(404, description=f"Nobody here is called “{username}”.")
    return author

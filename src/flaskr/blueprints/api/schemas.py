"""Flaskr's models as the JSON API shows them: RealWorld's shapes, plus a few
fields of Flaskr's own (documented in ``/api/openapi.json``).

"Article" is our post, "favorite" our like, an article's ``description`` the
post's summary; ``body`` is the Markdown the writer wrote and ``bodyHtml`` the
page's rendering of it.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import url_for

from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.follows import followed_among
from flaskr.services.reactions import liked_among

Json = dict[str, t.Any]


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as RealWorld clients expect."""
    text = moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def image_url(user: User | None) -> str:
    """The address of the user's picture, or of the default one."""
    if user is not None and user.avatar_id is not None:
        return url_for("blog.avatar", avatar_id=user.avatar_id, _external=True)
    return url_for("static", filename="avatar.svg", _external=True)


def profile_json(user: User | None, *, following: bool) -> Json:
    """A profile; an author whose account is deleted has an empty username."""
    if user is None:
        return {"username": "", "bio": "", "image": image_url(None), "following": False}
    return {
        "username": user.username,
        "bio": user.bio,
        "image": image_url(user),
        "following": following,
        "displayName": user.shown_name,
        "followersCount": user.follower_count,
        "followingCount": user.following_count,
        "url": url_for("blog.author", username=user.username, _external=True),
    }


def user_json(user: User, token: str, email: str) -> Json:
    return {
        "email": email,
        "token": token,
        "username": user.username,
        "bio": user.bio,
        "image": image_url(user),
    }


def article_json(
    post: Post, *, favorited: bool, following: bool, with_body: bool
) -> Json:
    """An article; lists leave out the text (``with_body``), as RealWorld's
    list responses do."""
    article: Json = {
        "slug": post.slug,
        "title": post.title,
        "description": post.summary,
        "tagList": post.tag_names,
        "createdAt": timestamp(post.created),
        "updatedAt": timestamp(post.updated or post.created),
        "favorited": favorited,
        "favoritesCount": post.like_count,
        "author": profile_json(post.author, following=following),
        "id": post.id,
        "published": post.published is not None,
        "publishedAt": timestamp(post.published) if post.published else None,
        "commentsCount": post.comment_count,
        "url": url_for("blog.post", id=post.id, _external=True),
    }
    if with_body:
        article["body"] = post.body
        article["bodyHtml"] = post.body_html
    return article


def articles_json(
    posts: list[Post], reader: User | None, *, with_body: bool = False
) -> list[Json]:
    """Articles for ``reader``, with whether they like each and follow its
    author: two queries for the whole list."""
    liked = liked_among(reader, posts)
    followed = followed_among(reader, (post.author_id for post in posts))
    return [
        article_json(
            post,
            favorited=post.id in liked,
            following=post.author_id in followed,
            with_body=with_body,
        )
        for post in posts
    ]


def comments_json(comments: list[Comment], reader: User | None) -> list[Json]:
    followed = followed_among(reader, (comment.author_id for comment in comments))
    return [
        {
            "id": comment.id,
            "createdAt": timestamp(comment.created),
            "updatedAt": timestamp(comment.edited or comment.created),
            "body": comment.body,
            "bodyHtml": comment.body_html,
            "author": profile_json(
                comment.author, following=comment.author_id in followed
            ),
        }
        for comment in comments
    ]

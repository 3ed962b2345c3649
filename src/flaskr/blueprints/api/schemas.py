"""Flaskr's models as the JSON API shows them: RealWorld's shapes, plus a few
fields of Flaskr's own (documented in ``/api/openapi.json``).

"Article" is our post, "favorite" our like, an article's ``description`` the
post's summary; ``body`` is the Markdown the writer wrote and ``bodyHtml`` the
page's rendering of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from flask import g
from flask import url_for

from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import User
from flaskr.services.accounts.directory import USERNAME_PATTERN
from flaskr.services.social.follows import followed_among
from flaskr.services.social.reactions import liked_among
from flaskr.web.post_links import address_slug
from flaskr.web.post_links import post_url

Json = dict[str, t.Any]


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as RealWorld clients expect."""
    text = moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


#: Stand-ins for an id, a username and a slug in addresses built once per request.
_ID_MARK = 9_876_543_210_123
_NAME_MARK = "flaskr-name-mark"
_SLUG_MARK = "flaskr-slug-mark"


@dataclasses.dataclass(frozen=True)
class _Links:
    """The site's addresses for posts, authors and pictures, each built once
    per request with ``url_for`` and then filled in: a list of articles would
    otherwise spend more on building addresses than on its query."""

    post: str
    post_by_slug: str
    author: str
    avatar: str
    default_image: str

    @classmethod
    def for_request(cls) -> _Links:
        links: _Links | None = g.get("api_links")
        if links is None:
            links = g.api_links = cls(
                post=url_for("blog.post", id=_ID_MARK, _external=True),
                post_by_slug=url_for(
                    "blog.post_by_slug", slug=_SLUG_MARK, _external=True
                ),
                author=url_for("blog.author", username=_NAME_MARK, _external=True),
                avatar=url_for("blog.avatar", avatar_id=_ID_MARK, _external=True),
                default_image=url_for("static", filename="avatar.svg", _external=True),
            )
        return links

    def of_post(self, post: Post) -> str:
        """The post's one address (``web.post_links``)."""
        slug = address_slug(post)
        if slug is None:
            return self.post.replace(str(_ID_MARK), str(post.id))
        # A valid slug in ASCII is letters, digits and hyphens: nothing to quote.
        if slug.isascii():
            return self.post_by_slug.replace(_SLUG_MARK, slug)
        return post_url(post, _external=True)

    def of_author(self, username: str) -> str:
        if USERNAME_PATTERN.fullmatch(username):  # nothing in it to quote
            return self.author.replace(_NAME_MARK, username)
        return url_for("blog.author", username=username, _external=True)

    def of_avatar(self, avatar_id: int | None) -> str:
        if avatar_id is None:
            return self.default_image
        return self.avatar.replace(str(_ID_MARK), str(avatar_id))


def image_url(user: User | None) -> str:
    """The address of the user's picture, or of the default one."""
    return _Links.for_request().of_avatar(user.avatar_id if user else None)


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
        "url": _Links.for_request().of_author(user.username),
    }


def remote_profile_json(actor: RemoteActor) -> Json:
    """A fediverse author's profile: ``user@host`` as the username (the
    handle without its first ``@``), their picture's address as kept (never
    fetched here; the default picture's if they have none, as the schema
    wants a string), never followed through this API."""
    return {
        "username": actor.handle.removeprefix("@"),
        "bio": "",
        "image": actor.icon_url or image_url(None),
        "following": False,
        "displayName": actor.shown_name,
        "url": actor.profile_url or actor.uri,
    }


def _comment_author_json(comment: Comment, followed: set[int]) -> Json:
    if comment.author is None and comment.remote_actor is not None:
        return remote_profile_json(comment.remote_actor)
    return profile_json(comment.author, following=comment.author_id in followed)


def user_json(user: User, token: str, email: str) -> Json:
    return {
        "email": email,
        "token": token,
        "username": user.username,
        "bio": user.bio,
        "image": image_url(user),
    }


def article_json(
    post: Post,
    *,
    favorited: bool,
    following: bool,
    with_body: bool,
    author: Json | None = None,
) -> Json:
    """An article; lists leave out the text (``with_body``), as RealWorld's
    list responses do.

    :param author: the author's profile, if already made for another post.
    """
    article: Json = {
        "slug": post.slug,
        "title": post.title,
        "description": post.summary,
        "tagList": post.tag_names,
        "createdAt": timestamp(post.created),
        "updatedAt": timestamp(post.updated or post.created),
        "favorited": favorited,
        "favoritesCount": post.like_count,
        "author": author or profile_json(post.author, following=following),
        "id": post.id,
        "published": post.published is not None,
        "publishedAt": timestamp(post.published) if post.published else None,
        "commentsCount": post.comment_count,
        "url": _Links.for_request().of_post(post),
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
    articles = []
    profiles: dict[int | None, Json] = {}  # a writer's posts share one
    for post in posts:
        article = article_json(
            post,
            favorited=post.id in liked,
            following=post.author_id in followed,
            with_body=with_body,
            author=profiles.get(post.author_id),
        )
        profiles[post.author_id] = article["author"]
        articles.append(article)
    return articles


def comments_json(comments: list[Comment], reader: User | None) -> list[Json]:
    followed = followed_among(reader, (comment.author_id for comment in comments))
    return [
        {
            "id": comment.id,
            "createdAt": timestamp(comment.created),
            "updatedAt": timestamp(comment.edited or comment.created),
            "body": comment.body,
            "bodyHtml": comment.body_html,
            # Not in RealWorld's spec (extra fields are allowed): "held"
            # while it waits for a moderator, shown only to its writer.
            "state": comment.state,
            "author": _comment_author_json(comment, followed),
        }
        for comment in comments
    ]

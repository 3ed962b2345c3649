"""A post's page, shown by the post view and again by a refused comment."""

from __future__ import annotations

from flask import current_app
from flask import g
from flask import render_template

from flaskr.blueprints.blog.forms import CommentForm
from flaskr.models import Post
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.base.roles import may_take_part
from flaskr.services.reading.navigation import neighbours
from flaskr.services.reading.navigation import related_posts
from flaskr.services.social.comment_policy import comment_refusal
from flaskr.services.social.comment_policy import may_switch_comments
from flaskr.services.social.follows import is_following
from flaskr.services.social.reactions import comments_on
from flaskr.services.social.reactions import liked_among


def render_post_page(
    post: Post, comment_form: CommentForm | None, *, comments_after: int | None = None
) -> str:
    """A post's page: the post, a page of its comments, likes, the comment form
    (``None`` for visitors, who are asked to log in instead)."""
    shows_reactions_of([post.id])
    per_page = current_app.config["COMMENTS_PER_PAGE"]
    comments = comments_on(post, per_page, after=comments_after, viewer=g.user)
    older, newer = neighbours(post) if post.is_public else (None, None)
    return render_template(
        "blog/post.html",
        post=post,
        comments=comments[:per_page],
        more_comments=len(comments) > per_page,
        liked=post.id in liked_among(g.user, [post]),
        following_author=post.author is not None and is_following(g.user, post.author),
        comment_form=comment_form,
        comments_refusal=comment_refusal(g.user, post),
        may_switch_comments=may_switch_comments(g.user, post),
        may_report=may_take_part(g.user),
        older=older,
        newer=newer,
        related=related_posts(post) if post.is_public else [],
    )

"""Replies to this site's posts as comments by remote authors, held or shown
by the moderation rules; likes and boosts counted on the posts; their
``Undo`` and ``Delete``.

A reply passes the checks a local comment passes, as far as they apply: the
post is public, its writer active, its comments open and the site's policy
not ``nobody`` (else the reply is dropped); the hold rules (links, words,
repeated text, and "first comment" per remote actor) hold it for the
moderators. A policy of ``members`` holds every reply: a remote author is
no member, but a moderator may still let their words through.

Each use case commits what it changed and logs what it did, or why it
dropped an activity (``federation_reply_dropped``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import typing as t
import urllib.parse

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import COMMENT_MAX_LENGTH
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import RemoteFollowing
from flaskr.models import RemoteReaction
from flaskr.models.federation import ANNOUNCE
from flaskr.models.federation import LIKE
from flaskr.models.federation import SITE_OWNER
from flaskr.models.federation import URI_MAX_LENGTH
from flaskr.models.governance import ACTIVE
from flaskr.models.governance import HELD
from flaskr.models.governance import VISIBLE
from flaskr.services.base.security_log import log_event
from flaskr.services.base.text import normalize_text
from flaskr.services.federation import client
from flaskr.services.federation import fields
from flaskr.services.federation import ids
from flaskr.services.federation.remote_actors import domain_of
from flaskr.services.social import comment_policy
from flaskr.services.social import hold_rules
from flaskr.services.social import reactions
from flaskr.services.social.newsletter import post_address

Activity = dict[str, t.Any]

#: The object types taken as a reply (``Article`` and ``Page`` too: some
#: servers answer with one).
REPLY_TYPES = frozenset({"Note", "Article", "Page"})
#: Why a reply is held under the ``members`` policy (the moderation queue).
MEMBERS_ONLY_REASON = "a fediverse reply (comments are for members)"
#: The longest ``content`` looked at; longer is refused before sanitising.
CONTENT_MAX_LENGTH = 20 * COMMENT_MAX_LENGTH
_KIND_OF = {"Like": LIKE, "Announce": ANNOUNCE}
_COUNTER_OF = {LIKE: Post.fediverse_likes, ANNOUNCE: Post.fediverse_shares}
# A link in nh3's output, which writes ``href`` first and quotes it.
_ANCHOR = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_LINE_BREAK = re.compile(r"<br\s*/?>")
_PARAGRAPH_END = re.compile(r"</p>")
_BLANK_LINES = re.compile(r"\n{3,}")


def _post_at(uri: str | None) -> Post | None:
    """This site's post that ``uri`` names: its ``Article`` id, or its page
    (``/p/<slug>`` or ``/<id>`` on ``SITE_URL``); ``None`` otherwise."""
    if uri is None:
        return None
    post_id = ids.post_id_of(uri)
    if post_id is not None:
        return db.session.get(Post, post_id)
    address = uri.split("#", 1)[0].split("?", 1)[0]
    prefix = ids.base() + "/"
    if not address.startswith(prefix):
        return None
    path = address.removeprefix(prefix).rstrip("/")
    if path.isascii() and path.isdigit():
        return db.session.get(Post, int(path))
    if path.startswith("p/") and "/" not in path[2:]:
        slug = urllib.parse.unquote(path[2:])
        return db.session.scalars(sa.select(Post).where(Post.slug == slug)).first()
    return None


def _dropped(actor: RemoteActor, reason: str, **fields: t.Any) -> None:
    log_event("federation_reply_dropped", actor=actor.uri, reason=reason, **fields)


def _object_of(actor: RemoteActor, activity: Activity) -> dict[str, t.Any] | None:
    """The object of a ``Create``/``Update``: as embedded, or fetched (signed
    by the site) when only its id came, if that is on the actor's host."""
    found = activity.get("object")
    if isinstance(found, str):
        if len(found) > URI_MAX_LENGTH or domain_of(found) != actor.domain:
            return None
        try:
            fetched = client.fetch_object(found, signer=SITE_OWNER)
        except client.FetchRefused as error:
            _dropped(actor, f"object not fetched: {error}", object=found)
            return None
        if fetched.get("id") != found:
            return None
        found = fetched
    return found if isinstance(found, dict) else None


def _reply_refusal(
    actor: RemoteActor, note: dict[str, t.Any], post: Post
) -> str | None:
    """Why the reply ``note`` to ``post`` is not taken, or ``None``."""
    note_id = fields.id_of(note.get("id"))
    if note_id is None or domain_of(note_id) != actor.domain:
        return "the object's id is not on the actor's host"
    attributed = note.get("attributedTo")
    if isinstance(attributed, list):
        attributed = attributed[0] if len(attributed) == 1 else None
    if fields.id_of(attributed) != actor.uri:
        return "the object is attributed to someone else"
    if not post.is_public:
        return "the post is not public"
    if post.author is None or post.author.state != ACTIVE:
        return "the post's writer is not active"
    policy = comment_policy.comment_policy()
    if policy == comment_policy.NOBODY or not post.comments_open:
        return "comments are closed"
    return None


def sanitised(content: str) -> str:
    """A remote ``content``'s HTML as comments show it: paragraphs, line
    breaks and ``http(s)`` links (``rel="nofollow ugc noopener"``); every
    other element (its text kept, but scripts' and styles'), attribute and
    class removed."""
    import nh3  # only here: a worker that serves readers never loads it

    return nh3.clean(
        content.replace("\x00", ""),
        tags={"p", "br", "a"},
        attributes={"a": {"href"}},
        link_rel="nofollow ugc noopener",
        url_schemes={"http", "https"},
    ).strip()


def _text_of(fragment: str) -> str:
    import nh3  # only here: a worker that serves readers never loads it

    return html.unescape(nh3.clean(fragment, tags=set()))


def plain_text(clean_html: str) -> str:
    """The text of sanitised HTML, for search, mail and the hold rules: a
    link reads as its text, with its address after it unless the text is
    the address, a mention or a hashtag (so the link rule counts it)."""

    def link(match: re.Match[str]) -> str:
        text, href = _text_of(match.group(2)), html.unescape(match.group(1))
        if not href or text == href or text.startswith(("@", "#")):
            return html.escape(text)
        return html.escape(f"{text} ({href})")

    text = _ANCHOR.sub(link, clean_html)
    text = _PARAGRAPH_END.sub("\n\n", _LINE_BREAK.sub("\n", text))
    lines = (" ".join(line.split()) for line in _text_of(text).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _content_of(note: dict[str, t.Any]) -> str | None:
    content = note.get("content")
    if not isinstance(content, str):
        languages = note.get("contentMap")
        if isinstance(languages, dict):
            content = next((v for v in languages.values() if isinstance(v, str)), None)
    return content if isinstance(content, str) else None


def _created(value: t.Any, post: Post) -> dt.datetime:
    """The reply's ``published`` time, if sane: not to come, and not before
    the post was published; now otherwise."""
    now = utcnow()
    if not isinstance(value, str):
        return now
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    if moment > now or (post.published is not None and moment < post.published):
        return now
    return moment


def receive_note(actor: RemoteActor, activity: Activity) -> bool:
    """A ``Create`` or ``Update`` of a ``Note`` replying to one of this
    site's posts becomes (or edits) a comment; whether it was such a reply.

    A replay, or a second ``Create`` of the same ``Note``, changes nothing;
    an ``Update`` of a ``Note`` not seen yet is taken as its ``Create``. A
    reply that may not be a comment (forged, closed, too long, empty) is
    dropped and logged; what is taken is committed.
    """
    note = _object_of(actor, activity)
    if note is None or note.get("type") not in REPLY_TYPES:
        return False
    post = _post_at(fields.id_of(note.get("inReplyTo")))
    if post is None:
        return False
    refusal = _reply_refusal(actor, note, post)
    content = _content_of(note)
    if refusal is None and (content is None or len(content) > CONTENT_MAX_LENGTH):
        refusal = "no content, or too long"
    body_html = sanitised(content or "")
    body = normalize_text(plain_text(body_html)).strip()
    if refusal is None and not body:
        refusal = "empty"
    if refusal is None and len(body) > COMMENT_MAX_LENGTH:
        refusal = f"longer than {COMMENT_MAX_LENGTH:,} characters"
    note_id = str(note.get("id"))
    if refusal is not None:
        _dropped(actor, refusal, object=note_id, post_id=post.id)
        return True
    kept = db.session.scalars(sa.select(Comment).where(Comment.remote_id == note_id))
    comment = kept.first()
    if comment is not None:
        if comment.remote_actor_id != actor.id:
            _dropped(actor, "the note is another actor's", object=note_id)
        elif activity.get("type") == "Update":
            _edit(comment, post, body, body_html)
        return True
    _add(actor, note, post, body, body_html)
    return True


def _add(
    actor: RemoteActor, note: dict[str, t.Any], post: Post, body: str, body_html: str
) -> None:
    if comment_policy.comment_policy() == comment_policy.MEMBERS:
        verdict = hold_rules.Verdict([MEMBERS_ONLY_REASON])
    else:
        verdict = hold_rules.remote_hold_verdict(actor.id, post, body)
    comment = Comment(
        post_id=post.id,
        author_id=None,
        remote_actor_id=actor.id,
        remote_id=str(note["id"]),
        remote_url=fields.http_address(note.get("url")),
        body=body,
        body_html=body_html,
        created=_created(note.get("published"), post),
        state=HELD if verdict.held else VISIBLE,
        hold_reason=verdict.reason,
    )
    try:
        # Two deliveries of one Note at once: the unique remote_id lets one in.
        with db.session.begin_nested():
            reactions.place_comment(comment, post_link=post_address(post) + "#comments")
    except IntegrityError:
        db.session.commit()
        return
    log_event(
        "federation_reply_held" if verdict.held else "federation_reply_added",
        actor=actor.uri,
        post_id=post.id,
        comment_id=comment.id,
        reason=verdict.reason,
    )
    db.session.commit()


def _edit(comment: Comment, post: Post, body: str, body_html: str) -> None:
    """An ``Update`` by its author: the new text, marked edited; a visible
    comment a hold rule now holds waits for the moderators again."""
    comment.body = body
    comment.body_html = body_html
    comment.edited = utcnow()
    policy = comment_policy.comment_policy()
    if comment.state == VISIBLE and policy != comment_policy.MEMBERS:
        assert comment.remote_actor_id is not None
        verdict = hold_rules.remote_hold_verdict(comment.remote_actor_id, post, body)
        if verdict.held:
            reactions.hide_comment(comment, HELD)
            comment.hold_reason = verdict.reason
            hold_rules.note_waiting_for_moderators()
    log_event(
        "federation_reply_edited",
        comment_id=comment.id,
        post_id=post.id,
        state=comment.state,
    )
    db.session.commit()


def receive_delete(actor: RemoteActor, activity: Activity) -> bool:
    """A ``Delete`` of one of ``actor``'s comments here removes it; whether
    it named one."""
    note_id = fields.id_of(activity.get("object"))
    if note_id is None:
        return False
    comment = db.session.scalars(
        sa.select(Comment).where(
            Comment.remote_id == note_id, Comment.remote_actor_id == actor.id
        )
    ).first()
    if comment is None:
        return False
    log_event(
        "federation_reply_deleted",
        actor=actor.uri,
        comment_id=comment.id,
        post_id=comment.post_id,
    )
    reactions.delete_comment(comment)  # commits
    return True


def _react(actor: RemoteActor, activity: Activity, kind: str) -> None:
    """Count ``activity`` (a ``Like`` or ``Announce``) of a public post here,
    once per actor and kind; anything else is ignored."""
    activity_id = fields.id_of(activity.get("id"))
    post = _post_at(fields.id_of(activity.get("object")))
    if activity_id is None or post is None or not post.is_public:
        return
    inserted = db.session.execute(
        insert_for_dialect(RemoteReaction)
        .values(
            post_id=post.id,
            actor_id=actor.id,
            kind=kind,
            activity_id=activity_id,
            created=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(RemoteReaction.id)
    ).first()
    if inserted is not None:
        reactions.change_count(post.id, _COUNTER_OF[kind], 1)
        log_event(
            "federation_reaction_added", actor=actor.uri, post_id=post.id, kind=kind
        )
    db.session.commit()


def receive_like(actor: RemoteActor, activity: Activity) -> None:
    """A ``Like`` of a public post here adds one to its fediverse likes."""
    _react(actor, activity, LIKE)


def receive_announce(actor: RemoteActor, activity: Activity) -> None:
    """An ``Announce`` (boost) of a public post here adds one to its
    fediverse shares; of anything else, it is ignored."""
    _react(actor, activity, ANNOUNCE)


def receive_undo(actor: RemoteActor, activity: Activity) -> None:
    """``Undo`` of a ``Like`` or an ``Announce``: named by its id, or
    embedded (then also found by its post and kind, as servers that give
    the undone activity a new id send it)."""
    undone = activity.get("object")
    undone_id = fields.id_of(undone)
    found = sa.select(RemoteReaction).where(RemoteReaction.actor_id == actor.id)
    reaction = None
    if undone_id is not None:
        reaction = db.session.scalars(
            found.where(RemoteReaction.activity_id == undone_id)
        ).first()
    if reaction is None and isinstance(undone, dict):
        kind = _KIND_OF.get(str(undone.get("type")))
        post = _post_at(fields.id_of(undone.get("object")))
        if kind is None or post is None or undone.get("actor") not in (None, actor.uri):
            return
        reaction = db.session.scalars(
            found.where(RemoteReaction.post_id == post.id, RemoteReaction.kind == kind)
        ).first()
    if reaction is None:
        return
    gone = db.session.execute(
        sa.delete(RemoteReaction)
        .where(RemoteReaction.id == reaction.id)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(gone):
        reactions.change_count(reaction.post_id, _COUNTER_OF[reaction.kind], -1)
        log_event(
            "federation_reaction_undone",
            actor=actor.uri,
            post_id=reaction.post_id,
            kind=reaction.kind,
        )
    db.session.commit()


def _uncount_comments(actor_id: int) -> None:
    theirs = (
        sa.select(sa.func.count())
        .where(
            Comment.post_id == Post.id,
            Comment.remote_actor_id == actor_id,
            comment_policy.counted_comments(),
        )
        .scalar_subquery()
    )
    commented = sa.select(Comment.post_id).where(Comment.remote_actor_id == actor_id)
    db.session.execute(
        sa.update(Post)
        .where(Post.id.in_(commented))
        .values(
            {
                Post.comment_count: Post.comment_count - theirs,
                Post.reactions_version: reactions.REACTED,
            }
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(Comment)
        .where(Comment.remote_actor_id == actor_id)
        .execution_options(synchronize_session=False)
    )


def _uncount_reactions(actor_id: int) -> None:
    for kind, counter in _COUNTER_OF.items():
        reacted = sa.select(RemoteReaction.post_id).where(
            RemoteReaction.actor_id == actor_id, RemoteReaction.kind == kind
        )
        db.session.execute(
            sa.update(Post)
            .where(Post.id.in_(reacted))
            .values({counter: counter - 1, Post.reactions_version: reactions.REACTED})
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        sa.delete(RemoteReaction).where(RemoteReaction.actor_id == actor_id)
    )


def forget_actor(actor: RemoteActor) -> None:
    """``actor`` was deleted: its comments, reactions and follows go (the
    posts' counts with them), then the actor; commit."""
    actor_id, uri = actor.id, actor.uri
    _uncount_comments(actor_id)
    _uncount_reactions(actor_id)
    db.session.execute(
        sa.delete(RemoteFollower).where(RemoteFollower.actor_id == actor_id)
    )
    db.session.execute(
        sa.delete(RemoteFollowing).where(RemoteFollowing.actor_id == actor_id)
    )
    db.session.delete(actor)
    log_event("federation_actor_forgotten", actor=uri)
    db.session.commit()

"""The hold rules: which new comments wait for a moderator, and why.

Each rule looks at one comment about to be added and says why it holds it,
in words for the moderation queue ("3 links (more than 2)"), or nothing.
Which rules are on is the site's setting (``SiteSettings.hold_rules``),
or, while an administrator has not chosen, ``COMMENT_HOLD_RULES``. The
moderators (administrators, editors) and the post's writer are never held.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa
from flask import current_app

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import Post
from flaskr.models import SiteSettings
from flaskr.models import User
from flaskr.models.governance import VISIBLE
from flaskr.services.base import roles
from flaskr.services.base import site
from flaskr.services.base.events import MODERATION_WAITING
from flaskr.services.base.events import record_event

FIRST_COMMENT = "first_comment"
LINKS = "links"
WORDS = "words"
YOUNG_ACCOUNT = "young_account"
REPEATED = "repeated"
#: Every rule, in the order the Settings page offers them.
RULES = (FIRST_COMMENT, LINKS, WORDS, YOUNG_ACCOUNT, REPEATED)
#: What the Settings page calls each rule.
RULE_LABELS = {
    FIRST_COMMENT: "An account's first comment",
    LINKS: "More links than the limit",
    WORDS: "A word from the list",
    YOUNG_ACCOUNT: "An account younger than the hours below",
    REPEATED: "The same text already posted on another post",
}
#: How far back the ``repeated`` rule looks for the same text.
REPEAT_WINDOW = dt.timedelta(days=7)
#: How many of the account's recent comments it compares with.
REPEAT_SAMPLE = 50
#: Limits of the settings.
LINK_LIMIT_MAX = 1000
ACCOUNT_HOURS_MAX = 24 * 365
WORDS_MAX_LENGTH = 10_000
WORDS_MAX_COUNT = 500

# A link: a Markdown or bare address with a scheme, or one starting "www.".
_LINK = re.compile(r"(?i)\b(?:https?://|ftp://|mailto:|www\.)")
_SPACES = re.compile(r"\s+")


def parse_rules(text: str) -> tuple[str, ...]:
    """The rule names in a comma-separated setting, known ones only, in order."""
    named = {name.strip() for name in text.split(",")}
    return tuple(rule for rule in RULES if rule in named)


def rules_problem(names: list[str]) -> str | None:
    unknown = [name for name in names if name not in RULES]
    if unknown:
        return "Choose among the rules offered."
    return None


def link_limit_problem(limit: int | None) -> str | None:
    if limit is None or not 0 <= limit <= LINK_LIMIT_MAX:
        return f"Give a number of links from 0 to {LINK_LIMIT_MAX:,}."
    return None


def account_hours_problem(hours: int | None) -> str | None:
    if hours is None or not 0 <= hours <= ACCOUNT_HOURS_MAX:
        return f"Give a number of hours from 0 to {ACCOUNT_HOURS_MAX:,}."
    return None


def word_list(text: str) -> list[str]:
    """The listed words, one a line, without blanks or repeats."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        word = " ".join(line.split())
        if word:
            seen.setdefault(word.casefold(), None)
    return list(seen)


def words_problem(text: str) -> str | None:
    if len(text) > WORDS_MAX_LENGTH:
        return f"The list must be at most {WORDS_MAX_LENGTH:,} characters long."
    if "\x00" in text:
        return "The list must not contain NUL characters."
    if len(word_list(text)) > WORDS_MAX_COUNT:
        return f"List at most {WORDS_MAX_COUNT} words."
    return None


def active_rules(settings: SiteSettings) -> tuple[str, ...]:
    """The rules that are on: the site's choice, or the deployment's default."""
    if settings.hold_rules is not None:
        return parse_rules(settings.hold_rules)
    return parse_rules(current_app.config["COMMENT_HOLD_RULES"])


def count_links(text: str) -> int:
    return len(_LINK.findall(text))


def listed_word_in(text: str, words: list[str]) -> str | None:
    """The first listed word found in ``text`` as a whole word, whatever
    its case (Unicode letters count as word characters), or ``None``."""
    folded = text.casefold()
    for word in words:
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded):
            return word
    return None


def normalized(text: str) -> str:
    """Text compared by the ``repeated`` rule: case and spacing aside."""
    return _SPACES.sub(" ", text.casefold()).strip()


def _has_commented(whose: sa.ColumnElement[bool]) -> bool:
    earlier = sa.select(Comment.id).where(whose).limit(1)
    return db.session.scalar(earlier) is not None


def _is_young(author: User, hours: int, now: dt.datetime) -> bool:
    return author.created is not None and now - author.created < dt.timedelta(
        hours=hours
    )


def _repeats(
    whose: sa.ColumnElement[bool], post: Post, text: str, now: dt.datetime
) -> bool:
    recent = (
        sa.select(Comment.body)
        .where(
            whose,
            Comment.post_id != post.id,
            Comment.created >= now - REPEAT_WINDOW,
        )
        .order_by(Comment.created.desc())
        .limit(REPEAT_SAMPLE)
    )
    wanted = normalized(text)
    return any(normalized(body) == wanted for body in db.session.scalars(recent))


@dataclasses.dataclass(frozen=True)
class Verdict:
    #: Why the comment is held, rule by rule; empty: it is not.
    reasons: list[str]

    @property
    def held(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)[:200]


def hold_verdict(author: User, post: Post, text: str) -> Verdict:
    """Which of the rules that are on hold ``author``'s comment ``text`` on
    ``post`` (none for moderators and the post's writer)."""
    if roles.may_moderate(author) or author.id == post.author_id:
        return Verdict([])
    whose = Comment.author_id == author.id
    return _verdict_of(whose, post, text, "the account's first comment", author)


def remote_hold_verdict(remote_actor_id: int, post: Post, text: str) -> Verdict:
    """Which of the rules that are on hold a fediverse reply ``text`` on
    ``post`` by the remote actor ``remote_actor_id``: the same rules, the
    first comment counted per remote actor; the account's age is unknown
    there, so ``young_account`` does not apply."""
    whose = Comment.remote_actor_id == remote_actor_id
    return _verdict_of(whose, post, text, "the fediverse account's first reply")


def _verdict_of(
    whose: sa.ColumnElement[bool],
    post: Post,
    text: str,
    first: str,
    account: User | None = None,
) -> Verdict:
    """What the rules on say of ``text`` on ``post`` by the author ``whose``
    selects (``young_account`` only for a local ``account``)."""
    settings = site.settings()
    rules = active_rules(settings)
    now = utcnow()
    reasons = []
    if FIRST_COMMENT in rules and not _has_commented(whose):
        reasons.append(first)
    if LINKS in rules:
        links = count_links(text)
        if links > settings.hold_link_limit:
            reasons.append(
                f"{links} link{'' if links == 1 else 's'}"
                f" (more than {settings.hold_link_limit})"
            )
    if WORDS in rules:
        word = listed_word_in(text, word_list(settings.hold_words))
        if word is not None:
            reasons.append(f"the listed word '{word}'")
    young = settings.hold_account_hours
    if YOUNG_ACCOUNT in rules and account and _is_young(account, young, now):
        reasons.append(f"an account younger than {young} hours")
    if REPEATED in rules and _repeats(whose, post, text, now):
        reasons.append("the same text on another post")
    return Verdict(reasons)


def is_new_account(author: User, hours: int) -> bool:
    """Younger than ``hours``, or with no visible comment yet: what the
    moderators' spam verdict suspends."""
    if _is_young(author, hours, utcnow()):
        return True
    visible = sa.select(Comment.id).where(
        Comment.author_id == author.id, Comment.state == VISIBLE
    )
    return db.session.scalar(visible.limit(1)) is None


def note_waiting_for_moderators() -> None:
    """Record that something waits in the moderation queue; the moderators'
    mail goes out from the first such event of the day (UTC) only. The
    caller commits."""
    day = utcnow().date().isoformat()
    record_event(MODERATION_WAITING, key=f"{MODERATION_WAITING}:{day}", day=day)

"""Post cards (a post's summary in a list) rendered once and reused by every
list that shows the post: the index and its older pages, tag, author and
month pages, the Following page.

A list asks for its page as :class:`~flaskr.services.base.paging.PostStub`\\ s —
ids, the posts' reactions stamps and the site version, in one statement —
and loads and renders only the posts whose cards are not kept. A card is
kept with the site version and the post's reactions stamp it was rendered
at, and used again only while both are unchanged: an edit anywhere (which
moves the version, as for the page cache) or a like or comment on the post
(which moves its stamp) makes it render again. Cards show nothing of the
reader, so every reader shares them.

This is the part of a first view that the page cache cannot answer: a tag
page nobody asked for yet is mostly cards the index already rendered.

The front page shows its newest post as a feature (its picture large): that
card is kept apart from the post's ordinary one, and rendered with the others
that are missing, so it costs no statement of its own.
"""

from __future__ import annotations

import collections
import threading
import typing as t

from flask import current_app
from flask import Flask
from flask import get_template_attribute
from flask import request
from markupsafe import Markup

from flaskr.services.base.paging import PostStub
from flaskr.services.reading.queries import posts_with_ids

#: (post id, the address the site is mounted at, whether it is the feature)
_Key = tuple[int, str, bool]


class _Card(t.NamedTuple):
    site_version: int
    reactions_version: int
    html: Markup


class CardCache:
    """The kept cards of one process, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cards: collections.OrderedDict[_Key, _Card] = collections.OrderedDict()
        self._lock = threading.Lock()

    def find(self, key: _Key, stub: PostStub) -> Markup | None:
        with self._lock:
            card = self._cards.get(key)
            if card is None:
                return None
            if (card.site_version, card.reactions_version) != (
                stub.site_version,
                stub.reactions_version,
            ):
                del self._cards[key]
                return None
            self._cards.move_to_end(key)
            return card.html

    def keep(self, key: _Key, stub: PostStub, html: Markup) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._cards[key] = _Card(stub.site_version, stub.reactions_version, html)
            self._cards.move_to_end(key)
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)

    def __len__(self) -> int:
        return len(self._cards)


def post_cards(
    stubs: t.Sequence[PostStub], *, feature_first: bool = False
) -> list[Markup]:
    """The cards of these posts, in their order (a post deleted since its stub
    was read has none).

    :param feature_first: show the first post as the feature (the front page).
    """
    cache: CardCache = current_app.extensions["flaskr.cards"]
    root = request.script_root

    def key(index: int, stub: PostStub) -> _Key:
        return (stub.id, root, feature_first and index == 0)

    cards: dict[int, Markup] = {}
    for index, stub in enumerate(stubs):
        found = cache.find(key(index, stub), stub)
        if found is not None:
            cards[stub.id] = found
    missing = [
        (index, stub) for index, stub in enumerate(stubs) if stub.id not in cards
    ]
    if missing:
        # Loaded after the stubs were read, so never older than their stamps:
        # a card kept under an older stamp than its content is only rendered
        # again sooner.
        posts = posts_with_ids([stub.id for _, stub in missing])
        summary = get_template_attribute("_posts.html", "summary")
        for index, stub in missing:
            post = posts.get(stub.id)
            if post is None:
                continue
            feature = key(index, stub)[2]
            cards[stub.id] = html = t.cast(Markup, summary(post, feature=feature))
            cache.keep(key(index, stub), stub, html)
    return [cards[stub.id] for stub in stubs if stub.id in cards]


def init_app(app: Flask) -> None:
    app.extensions["flaskr.cards"] = CardCache(app.config["CARD_CACHE_SIZE"])

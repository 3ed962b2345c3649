"""How high the page cache's hit ratio can go under the realistic mix, with no
server: ``./bench/run hit-ceiling [options]`` (bench/README.md, "Two servers
sharing PostgreSQL and Redis").

A model: it draws requests as ``bench/mix.py``'s script does (its shares and
its Zipf draws) and plays the page cache's rules on them. Each request goes
to one of the workers at random. A worker keeps a page it renders when it
rendered that page lately (among its last ``PAGE_CACHE_BYTES / 1024``
renders, a memory that outlives changes), in a tier of ``--pages-per-worker``
pages, the least recently used going first. A shared tier (Redis), if there
is one, holds without limit the pages workers keep (``kept``) or every page
rendered (``every``), and any worker finds them there. A like or comment drops
its post's pages; a new post drops every page. Pages listing a post whose
likes changed are not dropped, and nothing expires: the model leaves out what
would only lower the ratio, so its figures are ceilings (on one worker they
come within a few hundredths of the runs': bench/README.md).
"""

from __future__ import annotations

import argparse
import collections
import math
import random
import statistics
import sys
import typing as t
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import mix  # noqa: E402

from flaskr.cli.demo import TAGS  # noqa: E402
from flaskr.cli.demo import WORDS  # noqa: E402
from flaskr.config import DEFAULTS  # noqa: E402

#: Pages whose render each worker remembers (``page_cache._SEEN_PER_BYTES``).
REMEMBERED = DEFAULTS["PAGE_CACHE_BYTES"] // 1024
#: The shared tier's rules: none, the pages workers keep, every page rendered.
SHARED_TIERS = ("none", "kept", "every")

Key = tuple[t.Any, ...]


class Requests:
    """The mix's draws: ``next()`` is a page's key, or a write."""

    def __init__(self, posts: int, write_share: float, rng: random.Random) -> None:
        self.posts = posts
        self.write_share = write_share
        self.rng = rng
        self.authors = max(10, posts // 100)  # as seed-demo makes them
        self.searches = len(WORDS) * (len(WORDS) - 1) // 2
        self.older_pages = 5

    def zipf(self, count: int) -> int:
        """A rank from 1 to ``count``, drawn as the script's ``zipf`` draws it."""
        return min(count, math.floor(count ** self.rng.random()))

    def pick(self, shares: dict[str, float]) -> str:
        x, total = self.rng.random(), 0.0
        for kind, share in shares.items():
            total += share
            if x < total:
                return kind
        return kind

    def next(self) -> tuple[str, Key]:
        """("write", (kind, post)) or ("read", the page's key)."""
        rng = self.rng
        if rng.random() < self.write_share:
            return "write", (self.pick(mix.WRITES), self.zipf(self.posts))
        if rng.random() < mix.LOGGED_IN:
            session = rng.randrange(mix.READER_SESSIONS)
            if rng.random() < 0.3:
                return "read", ("index", session)
            return "read", ("post", self.zipf(self.posts), session)
        kind = self.pick(mix.READS)
        pages: dict[str, t.Callable[[], Key]] = {
            "post": lambda: ("post", self.zipf(self.posts), None),
            "older index pages": lambda: (kind, rng.randrange(self.older_pages)),
            "tag": lambda: (kind, self.zipf(len(TAGS))),
            "author": lambda: (kind, self.zipf(self.authors)),
            "feed": lambda: (kind, rng.randrange(3)),
            "search": lambda: (kind, self.zipf(self.searches)),
            "tags and archive": lambda: (kind, rng.randrange(2)),
        }
        return "read", pages.get(kind, lambda: (kind,))()


class Worker:
    """One worker's page cache: what it keeps, and what it rendered lately."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.kept: collections.OrderedDict[Key, None] = collections.OrderedDict()
        self.rendered: collections.OrderedDict[Key, None] = collections.OrderedDict()

    def find(self, key: Key) -> bool:
        if key in self.kept:
            self.kept.move_to_end(key)
            return True
        return False

    def keep(self, key: Key) -> None:
        self.kept[key] = None
        while len(self.kept) > self.pages:
            self.kept.popitem(last=False)

    def rendered_lately(self, key: Key) -> bool:
        """Whether ``key`` was rendered lately (and remember it was now)."""
        lately = self.rendered.pop(key, "no") is None
        self.rendered[key] = None
        while len(self.rendered) > REMEMBERED:
            self.rendered.popitem(last=False)
        return lately


def hit_ratio(
    posts: int,
    workers: int,
    pages_per_worker: int,
    shared: str,
    warm_up: int,
    measured: int,
    *,
    write_share: float = 0.01,
    new_posts_drop_all: bool = True,
    seed: int = mix.SEED,
) -> float:
    """Hits over all requests (writes included) among ``measured`` requests
    made after ``warm_up`` others."""
    rng = random.Random(seed)  # noqa: S311 (a model's draws)
    draws = Requests(posts, write_share, rng)
    caches = [Worker(pages_per_worker) for _ in range(workers)]
    shared_tier: set[Key] = set()
    hits = 0
    for number in range(warm_up + measured):
        counted = number >= warm_up
        what, key = draws.next()
        if what == "write":
            kind, post = key
            if kind == "post" and new_posts_drop_all:
                for cache in caches:
                    cache.kept.clear()
                shared_tier.clear()
            elif kind != "post":  # the post's page, for everyone who reads it
                for session in (None, *range(mix.READER_SESSIONS)):
                    for cache in caches:
                        cache.kept.pop(("post", post, session), None)
                    shared_tier.discard(("post", post, session))
            continue
        cache = caches[rng.randrange(workers)]
        if cache.find(key):
            hits += counted
            continue
        if key in shared_tier:
            hits += counted
            cache.keep(key)
            continue
        if cache.rendered_lately(key):
            cache.keep(key)
            if shared == "kept":
                shared_tier.add(key)
        if shared == "every":
            shared_tier.add(key)
    return hits / measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--workers", type=int, default=2, help="over all servers")
    parser.add_argument(
        "--pages-per-worker",
        type=int,
        default=1000,
        help="pages a worker's memory holds (about a thousand in 8 MiB uncompressed)",
    )
    parser.add_argument("--warm-up", type=int, default=10_000, help="requests")
    parser.add_argument("--requests", type=int, default=20_000, help="measured")
    parser.add_argument("--write-share", type=float, default=0.01)
    parser.add_argument(
        "--runs", type=int, default=5, help="each with its own seed; the mean is shown"
    )
    args = parser.parse_args()
    print(
        f"hit ratio ceilings: {args.workers} workers of {args.pages_per_worker:,}"
        f" pages, {args.write_share:.0%} writes, {args.warm_up:,} requests to warm"
        f" up, {args.requests:,} measured, the mean of {args.runs} runs"
    )
    print(
        f"{'posts':>10}  {'shared tier':<12}"
        f"{'new posts drop all':>20}{'they do not':>13}"
    )
    for posts in (int(size) for size in args.sizes.split(",")):
        for shared in SHARED_TIERS:
            figures = [
                statistics.mean(
                    hit_ratio(
                        posts,
                        args.workers,
                        args.pages_per_worker,
                        shared,
                        args.warm_up,
                        args.requests,
                        write_share=args.write_share,
                        new_posts_drop_all=drop_all,
                        seed=mix.SEED + run,
                    )
                    for run in range(args.runs)
                )
                for drop_all in (True, False)
            ]
            print(f"{posts:>10,}  {shared:<12}{figures[0]:>20.3f}{figures[1]:>13.3f}")


if __name__ == "__main__":
    main()

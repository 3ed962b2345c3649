"""A load that reads like a real audience, for ``bench/run`` (see bench/README.md,
"A realistic mix"): a wrk script drawing each request from a fixed mix.

Reads: post pages chosen from a Zipf distribution over every public post (so
most posts are asked for rarely, and some often), the index and its deeper
pages, tag and author pages, feeds, searches (a few popular, many asked once).
A share of readers is logged in (each with a session of their own). Writes,
when asked for, come from logged-in writers: likes and unlikes, comments, and
now and then a new post, on posts chosen the way readers choose them.

Popularity is not tied to age here: rank ``r`` is the ``r``-th post of a fixed
shuffle of all posts, so hot posts are spread over the whole blog (a post
linked from elsewhere years after it came out), which is harder on a cache
than "the newest are the hottest".
"""

from __future__ import annotations

import dataclasses
import random
import re
import typing as t
from pathlib import Path

import requests
import sqlalchemy as sa

#: Shares of reads, by kind (they add up to 1).
READS = {
    "post": 0.60,
    "index": 0.10,
    "older index pages": 0.03,
    "tag": 0.07,
    "author": 0.05,
    "feed": 0.05,
    "search": 0.03,
    "tags and archive": 0.02,
    "API articles": 0.05,
}
#: Share of reads made by logged-in readers (who read posts and the index).
LOGGED_IN = 0.05
#: Shares of writes, by kind.
WRITES = {"like": 0.70, "comment": 0.28, "post": 0.02}
READER_SESSIONS = 20
WRITER_SESSIONS = 10
SEED = 22


@dataclasses.dataclass
class Audience:
    """What the script needs to know of the site, read once before the run."""

    post_ids: Path
    post_count: int
    older_pages: list[str]
    tags: list[str]
    authors: list[str]
    searches: list[str]
    reader_cookies: list[str]
    writer_cookies: list[str]


def public_post_ids(database_url: str, into: Path) -> int:
    """Write the ids and pages of the public posts to ``into``, one post a
    line (``12 /p/a-slug``: readers ask for a post at its one address, likes
    and comments go to its id); return how many."""
    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT id, slug FROM post WHERE published IS NOT NULL AND deleted IS NULL"
        " AND published <= :now ORDER BY id"
    )
    import datetime as dt

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    count = 0
    with engine.connect() as connection, into.open("w") as out:
        for post_id, slug in connection.execute(query, {"now": now}):
            out.write(f"{post_id} {f'/p/{slug}' if slug else f'/{post_id}'}\n")
            count += 1
    engine.dispose()
    return count


def _cookie(url: str, username: str) -> str:
    http = requests.Session()
    response = http.post(
        f"{url}/auth/login",
        data={"username": username, "password": "demo password"},
        allow_redirects=False,
        timeout=60,
    )
    response.raise_for_status()
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _older_pages(url: str, count: int = 5) -> list[str]:
    """The index's next ``count`` pages, by following its "older" links."""
    pages: list[str] = []
    path = "/"
    for _ in range(count):
        html = requests.get(url + path, timeout=60).text
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        if found is None:
            break
        path = found.group(1).replace("&amp;", "&")
        pages.append(path)
    return pages


def audience(url: str, database_url: str, work: Path, users: int) -> Audience:
    from flaskr.cli.demo import WORDS

    ids = work / "public_post_ids.txt"
    count = public_post_ids(database_url, ids)
    tags_page = requests.get(f"{url}/tags", timeout=60).text
    tags = sorted(set(re.findall(r'href="(/tag/[^"/]+)"', tags_page)))
    rng = random.Random(SEED)  # noqa: S311 (a benchmark's choices)
    pairs = [
        f"{first}+{second}" for first in WORDS for second in WORDS if first < second
    ]
    rng.shuffle(pairs)
    demo = [f"demo{number}" for number in range(1, users + 1)]
    return Audience(
        post_ids=ids,
        post_count=count,
        older_pages=_older_pages(url),
        tags=tags,
        authors=[f"/u/{name}" for name in demo],
        searches=[f"/search?q={pair}" for pair in pairs],
        reader_cookies=[
            _cookie(url, demo[number % len(demo)]) for number in range(READER_SESSIONS)
        ],
        writer_cookies=[
            _cookie(url, demo[number % len(demo)]) for number in range(WRITER_SESSIONS)
        ],
    )


def _lua_list(values: t.Iterable[str]) -> str:
    return "{" + ",".join(f'"{value}"' for value in values) + "}"


def _coprime_step(count: int) -> int:
    """A step that visits every position of ``count`` once (a shuffle)."""
    import math

    step = int(count * 0.6180339887) | 1
    while math.gcd(step, count) != 1:
        step += 2
    return step


def script(
    audience: Audience,
    write_share: float,
    into: Path,
    *,
    accept_encoding: str | None = None,
    seed: int = SEED,
) -> Path:
    """A wrk script for the mix, with ``write_share`` of requests writing, each
    request sending ``accept_encoding`` (if any) as its ``Accept-Encoding``.
    Scripts of different ``seed`` draw different requests (two wrk processes
    with the same one would ask for the same pages at the same moments)."""
    read_edges = []
    total = 0.0
    for kind, share in READS.items():
        total += share
        read_edges.append(f'{{{total:.6f}, "{kind}"}}')
    write_edges = []
    total = 0.0
    for kind, share in WRITES.items():
        total += share
        write_edges.append(f'{{{total:.6f}, "{kind}"}}')
    into.write_text(
        f"""-- Written by bench/mix.py: a realistic audience.
local ids, pages = {{}}, {{}}
for line in io.lines("{audience.post_ids}") do
  local id, page = line:match("(%d+) (%S+)")
  ids[#ids + 1] = id
  pages[#pages + 1] = page
end
local N = #ids
local STEP = {_coprime_step(audience.post_count)}
local older = {_lua_list(audience.older_pages)}
local tags = {_lua_list(audience.tags)}
local authors = {_lua_list(audience.authors)}
local searches = {_lua_list(audience.searches)}
local readers = {_lua_list(audience.reader_cookies)}
local writers = {_lua_list(audience.writer_cookies)}
local feeds = {{"/feed.atom", "/feed.rss", "/feed.json"}}
local reads = {{{",".join(read_edges)}}}
local writes = {{{",".join(write_edges)}}}
local WRITE_SHARE = {write_share}
local LOGGED_IN = {LOGGED_IN}
local ACCEPT_ENCODING = {f'"{accept_encoding}"' if accept_encoding else "nil"}
local FORM_TYPE = "application/x-www-form-urlencoded"
math.randomseed({seed})
local written = 0

-- Zipf with exponent 1 over ranks 1..n: P(rank <= r) ~ ln(r) / ln(n).
local function zipf(n)
  return math.min(n, math.floor(n ^ math.random()))
end
local function chosen_post()
  return (zipf(N) * STEP) % N + 1
end
-- Readers read a post at its one address; likes and comments go to its id.
local function post_page()
  return pages[chosen_post()]
end
local function post_path()
  return "/" .. ids[chosen_post()]
end
local function pick(edges)
  local x = math.random()
  for _, edge in ipairs(edges) do
    if x < edge[1] then return edge[2] end
  end
  return edges[#edges][2]
end
-- Every request's own headers (wrk's -H ones are not added to them).
local function headers(cookie, content_type)
  return {{["Accept-Encoding"] = ACCEPT_ENCODING, ["Cookie"] = cookie,
          ["Content-Type"] = content_type}}
end
local function get(path, cookie)
  return wrk.format("GET", path, headers(cookie))
end

local function write()
  written = written + 1
  local form = headers(writers[math.random(#writers)], FORM_TYPE)
  local kind = pick(writes)
  local post = post_path()
  if kind == "like" then
    local liked = math.random() < 0.5 and "yes" or "no"
    return wrk.format("POST", post .. "/like", form, "liked=" .. liked)
  elseif kind == "comment" then
    return wrk.format("POST", post .. "/comments", form,
                      "body=A+comment+from+the+benchmark+" .. written)
  end
  return wrk.format("POST", "/create", form,
                    "title=Benchmark+post+" .. written ..
                    "&body=Written+during+the+benchmark.&tags=benchmark")
end

request = function()
  if math.random() < WRITE_SHARE then return write() end
  if math.random() < LOGGED_IN then
    local cookie = readers[math.random(#readers)]
    if math.random() < 0.3 then return get("/", cookie) end
    return get(post_page(), cookie)
  end
  local kind = pick(reads)
  if kind == "post" then return get(post_page()) end
  if kind == "index" then return get("/") end
  if kind == "older index pages" then return get(older[math.random(#older)]) end
  if kind == "tag" then return get(tags[zipf(#tags)]) end
  if kind == "author" then return get(authors[zipf(#authors)]) end
  if kind == "feed" then return get(feeds[math.random(#feeds)]) end
  if kind == "search" then return get(searches[zipf(#searches)]) end
  if kind == "tags and archive" then
    return get(math.random() < 0.5 and "/tags" or "/archive")
  end
  return get("/api/articles")
end
"""
    )
    return into

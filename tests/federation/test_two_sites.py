"""Two Flaskr sites on two loopback ports federate, through HTTP only.

A and B are each gunicorn with its own SQLite, ``SITE_URL`` on its own port
and its background timer sending deliveries. B's reader follows A's writer
at ``/fediverse/following``; the writer publishes on A; the post reaches
B's ``/fediverse/following``; the reader replies on B's
``/fediverse/posts/<id>``; the reply waits in A's moderation queue under
B's handle (A holds first comments); A's administrator approves it and it
shows on the post's page on A.
"""

from __future__ import annotations

import re
import secrets

import pytest

from tests.federation.conftest import actor_of
from tests.federation.conftest import Browser
from tests.federation.conftest import wait_until

pytestmark = pytest.mark.federation

#: Federation crosses two sites' queues and timers: a generous bound.
PATIENCE = 60


def test_a_reply_from_another_flaskr_reaches_the_moderation_queue(sites):
    a, b = sites("A", "B")

    admin_a = Browser(a)
    admin_a.register_and_log_in("admin")  # a fresh site's first account
    admin_a.hold_first_comments()
    writer = Browser(a)
    writer.register_and_log_in("writer")
    reader = Browser(b)
    reader.register_and_log_in("reader")

    # B's reader follows A's writer.
    handle = f"@writer@{a.host}"
    response = reader.post(
        "/fediverse/following", "/fediverse/following", handle=handle
    )
    assert response.status_code in (200, 302, 303), response.text[:2000]
    followers = actor_of(a, "writer") + "/followers"

    def follower_count() -> int:
        answer = writer.http.get(
            followers, headers={"Accept": "application/activity+json"}, timeout=10
        )
        return int(answer.json().get("totalItems", 0)) if answer.ok else 0

    wait_until("A to list B's reader as a follower", follower_count, PATIENCE)

    # A's writer publishes; the post reaches B.
    title = f"Across the loopback {secrets.token_hex(4)}"
    post_path, _ = writer.publish(title, "Written on A for B's readers.")

    def post_on_b() -> str | None:
        page = reader.get("/fediverse/following").text
        if title not in page:
            return None
        for link in dict.fromkeys(re.findall(r'href="(/fediverse/posts/\d+)"', page)):
            if title in reader.get(link).text:
                return link
        return None

    remote_post = wait_until(
        "the post on B's /fediverse/following", post_on_b, PATIENCE
    )

    # B's reader replies; the reply waits on A for a moderator.
    reply = f"A reply from B {secrets.token_hex(4)}"
    response = reader.post(f"{remote_post}/reply", remote_post, body=reply)
    assert response.status_code in (200, 302, 303), response.text[:2000]

    def held_on_a() -> str | None:
        page = admin_a.get("/moderation").text
        return page if reply in page else None

    queue = wait_until("the reply in A's moderation queue", held_on_a, PATIENCE)
    assert f"reader@{b.host}" in queue
    assert reply not in writer.get(post_path).text

    held = re.search(
        r'name="comment" value="(\d+)"[^<]*>(?:(?!name="comment").)*?'
        + re.escape(reply),
        queue,
        flags=re.DOTALL,
    )
    assert held is not None, "no checkbox for the reply"
    response = admin_a.post(
        "/moderation/comments",
        "/moderation",
        _prefix="decide-",
        comment=held.group(1),
        decision="approve",
    )
    assert response.status_code == 302
    page = wait_until(
        "the approved reply on A's post page",
        lambda: reply in (text := writer.get(post_path).text) and text,
        PATIENCE,
    )
    assert f"reader@{b.host}" in page

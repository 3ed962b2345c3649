"""Posts scheduled for a time to come: out of every public place until then,
in all of them after, with no cron job; the clock is time-machine's."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.services.content.rules import schedule_time
from flaskr.services.content.rules import ScheduleProblem
from tests.helpers import newest
from tests.helpers import post_row
from tests.helpers import write_in_editor

TITLE = "Tomorrow news"


def places(post_id):
    """Every public place a post shows in, with what shows it there."""
    link = b'href="/p/tomorrow-news"'
    return {
        "/": link,
        "/feed.atom": TITLE.encode(),
        "/feed.rss": TITLE.encode(),
        "/tag/news": link,
        "/tag/news/feed.atom": TITLE.encode(),
        "/u/test": link,
        "/u/test/feed.atom": TITLE.encode(),
        "/sitemap-0.xml": b"/p/tomorrow-news</loc>",
        "/search?q=tomorrow": link,
        # ``/<id>`` sends to the post's one address, once it is out.
        f"/{post_id}": b'href="/p/tomorrow-news"',
        "/p/tomorrow-news": TITLE.encode(),
    }


def shown_in(client, post_id):
    """The public places that show the post, each asked twice (so the page
    cache keeps it)."""
    found = []
    for path, marker in places(post_id).items():
        client.get(path)
        response = client.get(path)
        # 301: ``/<id>`` sends to the post's address once readers may see it.
        if marker in response.data and response.status_code in (200, 301):
            found.append(path)
    return found


def minute_after(moment, minutes):
    later = moment + dt.timedelta(minutes=minutes)
    return later.replace(second=0, microsecond=0)


def test_a_scheduled_post_comes_out_at_its_time_everywhere(app, author):
    start = dt.datetime.now(dt.UTC)
    at = minute_after(start, 3)
    with time_machine.travel(start, tick=False):
        response = write_in_editor(
            author,
            title=TITLE,
            tags="news",
            action="schedule",
            publish_at=at.strftime("%Y-%m-%dT%H:%M"),
            time_zone="UTC",
        )
        assert response.status_code == 302
        post_id = newest(app)
        assert post_row(app, post_id).published == at
        reader = app.test_client()
        assert shown_in(reader, post_id) == []
        # Its writer sees it, marked as scheduled.
        assert author.get(f"/{post_id}", follow_redirects=True).status_code == 200
        assert b"Scheduled" in author.get("/drafts").data

    with time_machine.travel(at - dt.timedelta(seconds=1), tick=False):
        assert shown_in(reader, post_id) == []

    with time_machine.travel(at + dt.timedelta(seconds=1), tick=False):
        assert shown_in(reader, post_id) == list(places(post_id))
        with app.app_context():
            assert db.session.get(SiteVersion, 1).next_publication is None


def test_pages_kept_before_the_time_are_not_served_after_it(app, author):
    start = dt.datetime.now(dt.UTC)
    at = minute_after(start, 3)
    reader = app.test_client()
    with time_machine.travel(start, tick=False):
        write_in_editor(author, title="Old news", tags="news")
        write_in_editor(
            author,
            title=TITLE,
            tags="news",
            action="schedule",
            publish_at=at.strftime("%Y-%m-%dT%H:%M"),
            time_zone="UTC",
        )
        reader.get("/")
        assert TITLE.encode() not in reader.get("/").data  # kept
    with time_machine.travel(at + dt.timedelta(seconds=1), tick=False):
        assert TITLE.encode() in reader.get("/").data
        # The next request is served from a kept page again.
        assert TITLE.encode() in reader.get("/").data


def test_back_to_draft_and_publish_now(app, author):
    start = dt.datetime.now(dt.UTC)
    at = minute_after(start, 60)
    fields = {
        "title": TITLE,
        "tags": "news",
        "publish_at": at.strftime("%Y-%m-%dT%H:%M"),
        "time_zone": "UTC",
    }
    write_in_editor(author, action="schedule", **fields)
    post_id = newest(app)
    form = author.get(f"/{post_id}/update").get_data(as_text=True)
    assert f'value="{at:%Y-%m-%dT%H:%M}"' in form
    assert "Save, keep scheduled" in form
    write_in_editor(author, f"/{post_id}/update", action="draft", **fields)
    assert post_row(app, post_id).published is None
    write_in_editor(author, f"/{post_id}/update", action="schedule", **fields)
    assert post_row(app, post_id).published == at
    write_in_editor(author, f"/{post_id}/update", action="publish", **fields)
    published = post_row(app, post_id).published
    assert published is not None and published < at
    assert shown_in(app.test_client(), post_id) == list(places(post_id))


def test_the_writers_time_zone_is_used_and_remembered(app, author):
    write_in_editor(
        author,
        title=TITLE,
        action="schedule",
        publish_at="2030-07-01T18:00",
        time_zone="Europe/Paris",
    )
    post = post_row(app, newest(app))
    assert post.published == dt.datetime(2030, 7, 1, 16, 0, tzinfo=dt.UTC)
    page = author.get(f"/{post.id}/update").get_data(as_text=True)
    assert "comes out on 1 July 2030, 18:00 (Europe/Paris)" in page
    assert '<option selected value="Europe/Paris">' in page
    assert 'value="2030-07-01T18:00"' in page


@pytest.mark.parametrize(
    ("publish_at", "zone", "message"),
    [
        ("", "UTC", "Choose the date and time to publish at."),
        ("2001-01-01T00:00", "UTC", "That time has passed"),
        ("3000-01-01T00:00", "UTC", "within the next five years"),
        ("tomorrow", "UTC", "Enter a date and time like"),
        ("2030-01-01T00:00+05:00", "UTC", "Enter a date and time like"),
        ("2030-01-01T00:00", "Mars/Olympus", "Choose a time zone from the list."),
        ("2030-01-01T00:00", "\x00", "Choose a time zone from the list."),
        ("\x00", "UTC", "Enter a date and time like"),
    ],
)
def test_a_bad_schedule_is_refused_and_saves_nothing(
    app, author, publish_at, zone, message
):
    before = newest(app)
    response = write_in_editor(
        author, title=TITLE, action="schedule", publish_at=publish_at, time_zone=zone
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert newest(app) == before


def test_schedule_time_reads_local_time():
    winter = schedule_time("2030-01-15T09:30", "America/New_York")
    assert winter == dt.datetime(2030, 1, 15, 14, 30, tzinfo=dt.UTC)
    with pytest.raises(ScheduleProblem):
        schedule_time("2030-01-15", "Not/A_Zone")


def test_a_published_post_cannot_be_scheduled_back(app, author):
    write_in_editor(author, title="Out already")
    post_id = newest(app)
    published = post_row(app, post_id).published
    response = write_in_editor(
        author,
        f"/{post_id}/update",
        title="Out already",
        action="schedule",
        publish_at="2030-01-01T00:00",
        time_zone="UTC",
    )
    assert response.status_code == 302
    assert post_row(app, post_id).published == published


def test_scheduling_notes_the_soonest_time(app, author):
    later = "2030-01-01T00:00"
    sooner = "2029-01-01T00:00"
    for when in (later, sooner, later):
        write_in_editor(
            author, title=TITLE, action="schedule", publish_at=when, time_zone="UTC"
        )
    with app.app_context():
        soonest = db.session.get(SiteVersion, 1).next_publication
        assert soonest == dt.datetime(2029, 1, 1, tzinfo=dt.UTC)
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Post).where(Post.published > soonest)
        )
        assert count == 2


def test_only_one_server_moves_the_version_for_a_publication(app, author):
    from flaskr.services.content.lifecycle import publish_due

    start = dt.datetime.now(dt.UTC)
    at = minute_after(start, 3)
    write_in_editor(
        author,
        title=TITLE,
        action="schedule",
        publish_at=at.strftime("%Y-%m-%dT%H:%M"),
        time_zone="UTC",
    )
    with app.app_context():
        before = db.session.get(SiteVersion, 1).value
        early = time_machine.travel(at - dt.timedelta(seconds=1), tick=False)
        with early, db.engine.connect() as connection:
            assert publish_due(connection) is False
        late = time_machine.travel(at + dt.timedelta(seconds=1), tick=False)
        with late, db.engine.connect() as first, db.engine.connect() as second:
            assert publish_due(first) is True
            assert publish_due(second) is False
        db.session.expire_all()
        assert db.session.get(SiteVersion, 1).value == before + 1

"""The reading view as a reader meets it: the measure of a line, a compact
phone header, contrast of controls and focus, dates in the reader's time
zone, the keyboard (skip link, Tab order, no trap, the phone menu), reduced
motion and printing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from playwright.sync_api import Page

from flaskr.services.accounts import directory
from flaskr.services.accounts import users as accounts
from flaskr.services.content import writing
from flaskr.services.social import reactions
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD

WRITER, READER = "cleo", "dev"

PARAGRAPH = (
    "Readers follow a line of text from its start to its end and then find the"
    " start of the next one; when lines run too long the eye loses its place,"
    " and when they are too short the rhythm of reading breaks into pieces."
    " A measure of about sixty-five characters, with generous space between the"
    " lines, lets a long article be read without effort, on a desk or a sofa."
)


@pytest.fixture(scope="module")
def reading(live_app) -> dict[str, int]:
    with live_app.test_request_context():
        writer = directory.find_user(WRITER) or accounts.register_user(WRITER, PASSWORD)
        reader = directory.find_user(READER) or accounts.register_user(READER, PASSWORD)
        ids = {}
        for number in range(12):
            post = writing.create_post(
                writer,
                f"Reading test {number}",
                PARAGRAPH + "\n\n" + PARAGRAPH,
                tags=["reading", f"topic-{number % 3}"],
                publish=True,
            )
            ids[f"post{number}"] = post.id
        comment = reactions.add_comment(post, reader, "Well put.", post_link="/")
        ids["comment_created"] = int(comment.created.timestamp())
        return ids


def characters_per_line(page: Page, selector: str) -> list[int]:
    """How many characters each rendered line of the element holds."""
    return page.evaluate(
        """selector => {
            const element = document.querySelector(selector);
            const text = element.firstChild;
            const range = document.createRange();
            const lines = new Map();
            for (let i = 0; i < text.length; i++) {
                range.setStart(text, i);
                range.setEnd(text, i + 1);
                const rect = range.getBoundingClientRect();
                if (rect.height === 0) continue;
                const top = Math.round(rect.top);
                lines.set(top, (lines.get(top) || 0) + 1);
            }
            return [...lines.values()];
        }""",
        selector,
    )


@pytest.mark.parametrize("serif", [False, True])
def test_post_text_runs_60_to_75_characters_a_line(new_page, live_app, reading, serif):
    from flaskr.services.base import site

    with live_app.app_context():
        row = site.settings()
        site.update_identity(row.title, row.description, row.about, serif_body=serif)
    try:
        page = new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"/{reading['post0']}")
        expect(page.locator("body")).to_have_class("serif-posts" if serif else "")
        lines = characters_per_line(page, ".post-full .body p")
        full_lines = lines[:-1]  # the last line of a paragraph is short
        assert len(full_lines) >= 3
        assert all(60 <= count <= 75 for count in full_lines), full_lines
    finally:
        with live_app.app_context():
            row = site.settings()
            site.update_identity(row.title, row.description, row.about)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_account_menu_is_a_disclosure(new_page, reading, width):
    page = new_page(viewport={"width": width, "height": 844})
    log_in(page, WRITER)
    page.goto("/")
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] <= 65, header
    # One bar: the name, Search, Write and the account button, nothing else.
    expect(page.get_by_role("link", name="Write")).to_be_visible()
    # A <details> element: browsers tell screen readers whether it is open.
    menu = page.locator("summary.account-button")
    expect(menu).to_have_accessible_name("Your account")
    details = page.locator("details.account-menu")
    expect(details).not_to_have_attribute("open", "")
    expect(page.get_by_role("link", name="Drafts")).to_be_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    expect(details).to_have_attribute("open", "")
    expect(page.get_by_role("link", name="Drafts")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Your page")).to_be_focused()
    page.keyboard.press("Escape")
    expect(details).not_to_have_attribute("open", "")
    expect(menu).to_be_focused()
    expect(page.get_by_role("link", name="Drafts")).to_be_hidden()
    # A click elsewhere closes it too.
    menu.click()
    expect(page.get_by_role("link", name="Trash")).to_be_visible()
    page.mouse.click(4, 700)  # the page's margin, clear of the open menu
    expect(page.get_by_role("link", name="Trash")).to_be_hidden()


def test_without_the_script_the_menu_still_opens(new_page, reading):
    page = new_page(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page.goto("/")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    log_in(page, WRITER)
    page.goto("/")
    page.locator("summary.account-button").click()
    page.get_by_role("link", name="Account").click()
    expect(page).to_have_url(re.compile("/auth/account$"))


def _luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", colour)[:3])

    def linear(channel: float) -> float:
        if channel <= 0.03928:
            return channel / 12.92
        return float(((channel + 0.055) / 1.055) ** 2.4)

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_field_borders_and_focus_rings_stand_out(new_page, reading, scheme):
    page = new_page(color_scheme=scheme)
    page.goto("/auth/login")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    field = page.get_by_label("Username")
    border = field.evaluate("element => getComputedStyle(element).borderTopColor")
    assert contrast(border, background) >= 3, (border, background)
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the site's name
    focused = page.evaluate("document.activeElement.className")
    assert focused == "site-name"
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    width = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert contrast(ring, background) >= 3, (ring, background)
    assert float(width.removesuffix("px")) >= 2


def test_dates_show_in_the_readers_time_zone(new_page, reading):
    post = f"/{reading['post11']}"
    written = dt.datetime.fromtimestamp(reading["comment_created"], dt.UTC)
    tokyo = written.astimezone(dt.timezone(dt.timedelta(hours=9)))

    page = new_page(timezone_id="Asia/Tokyo", locale="en-GB")
    page.goto(post)
    comment_time = page.locator("#comments time")
    expect(comment_time).to_contain_text(f"{tokyo.day} {tokyo:%B %Y}")
    expect(comment_time).to_contain_text(f"{tokyo:%H:%M}")
    expect(comment_time).to_have_attribute("title", "Asia/Tokyo")

    plain = new_page(java_script_enabled=False)
    plain.goto(post)
    expect(plain.locator("#comments time")).to_have_text(
        f"{written.day} {written:%B %Y, %H:%M} UTC"
    )


def tab_stops(page: Page, presses: int) -> list[str]:
    """Press Tab and note where focus goes, as a path of the element."""
    stops = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate(
                """() => {
                    const element = document.activeElement;
                    if (!element || element === document.body) return "body";
                    const all = [...document.querySelectorAll("*")];
                    const label = element.textContent || element.name || "";
                    return all.indexOf(element) + ":" + element.tagName + ":"
                        + label.trim().slice(0, 30);
                }"""
            )
        )
    return stops


def test_the_keyboard_reaches_everything_in_order_and_gets_out(new_page, reading):
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to content")
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.goto("/")
    stops = tab_stops(page, 120)
    positions = [int(stop.split(":")[0]) for stop in stops if stop != "body"]
    leaving = stops.index("body") if "body" in stops else len(stops)
    # Document order, with nothing skipped back to: no positive tabindex.
    assert positions[:leaving] == sorted(positions[:leaving])
    older = next(i for i, stop in enumerate(stops) if "Older posts" in stop)
    # Each card is its title, its author and its tags (two here): no "Read
    # more", no Edit.
    assert older < 50, stops[: older + 1]
    # Past the footer, focus leaves the page: nothing traps it.
    assert leaving < len(stops), stops[-5:]


def test_no_trap_on_a_post_with_its_comment_form(new_page, reading):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, READER)
    page.goto(f"/{reading['post11']}")
    stops = tab_stops(page, 150)
    assert any("TEXTAREA" in stop for stop in stops)
    assert "body" in stops, stops[-5:]


def test_an_empty_comment_brings_its_error_into_view(new_page, reading):
    """The form is at the foot of a long post: the page that refuses an
    empty comment opens at the form, its error shown and its field focused."""
    page = new_page(viewport={"width": 390, "height": 844})
    log_in(page, READER)
    page.goto(f"/{reading['post10']}")
    page.get_by_role("button", name="Post comment").click()
    error = page.locator("#comment-form .error")
    expect(error).to_have_text("Comment is required.")
    expect(error).to_be_in_viewport()
    expect(page.locator("#comment-form textarea")).to_be_focused()


def test_motion_is_reduced_when_asked(new_page, reading):
    calm = new_page(reduced_motion="reduce")
    calm.goto("/")
    assert (
        calm.evaluate("getComputedStyle(document.documentElement).scrollBehavior")
        == "auto"
    )
    lively = new_page(reduced_motion="no-preference")
    lively.goto("/")
    assert (
        lively.evaluate("getComputedStyle(document.documentElement).scrollBehavior")
        == "smooth"
    )


def test_a_printed_post_is_its_text(new_page, reading, screenshot):
    page = new_page()
    page.goto(f"/{reading['post0']}")
    page.emulate_media(media="print")
    expect(page.locator(".header-actions")).to_be_hidden()
    expect(page.locator(".site-footer nav")).to_be_hidden()
    expect(page.locator(".read-next")).to_be_hidden()
    expect(page.locator(".post-full .body")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "print")

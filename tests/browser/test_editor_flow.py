"""The editor in Chromium: the preview in the published post's typography,
autosave (a new post becomes a draft from its first words), pictures added
with the alt text asked in the page, the browser's own checks, Enter in the
title, the schedule's zone, under the strict CSP."""

from __future__ import annotations

import base64
import datetime as dt
import re

from playwright.sync_api import expect

from tests.browser.helpers import loaded
from tests.browser.helpers import open_account_menu
from tests.browser.helpers import picture
from tests.browser.helpers import register_and_log_in


def csp_reports(page):
    reports = []
    page.on(
        "console",
        lambda message: (
            reports.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return reports


def new_post(page, username):
    register_and_log_in(page, username)
    page.get_by_role("link", name="Write").click()
    expect(page).to_have_url(re.compile(r"/create$"))
    # The script has taken the form over (it runs once the page is parsed).
    expect(page.locator("form.editor-live")).to_be_attached()


def open_settings(page):
    settings = page.locator("details.post-settings")
    if settings.get_attribute("open") is None:
        page.get_by_text("Post settings").click()


def test_the_preview_follows_the_typing_in_the_posts_typography(new_page, screenshot):
    page = new_page(viewport={"width": 1280, "height": 900})
    reports = csp_reports(page)
    new_post(page, "typist")
    page.get_by_label("Title").fill("Live")
    page.get_by_label("Body").press_sequentially("Hello **world**, `code`")
    preview = page.get_by_role("region", name="Preview (not saved yet)")
    expect(preview).to_be_hidden()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("button", name="Preview")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(preview.locator(".post-full .body strong")).to_have_text("world")
    expect(preview.locator("code")).to_have_text("code")
    expect(preview.locator(".preview-title")).to_have_text("Live")
    expect(page.locator(".editor-status")).to_contain_text("3 words · 1 min read")
    # Side by side at this width: the preview starts level with the title.
    text_box = page.get_by_label("Title").bounding_box()
    pane_box = preview.bounding_box()
    assert pane_box["x"] > text_box["x"] + text_box["width"]
    assert abs(pane_box["y"] - text_box["y"]) < 120
    # The published post's rules apply: the body's size is the post page's.
    size = preview.locator(".body p").evaluate("e => getComputedStyle(e).fontSize")
    assert size == "18px"
    screenshot(page, "1-side-by-side")
    page.get_by_role("button", name="Preview").click()
    expect(preview).to_be_hidden()
    assert reports == []


def test_the_text_keeps_a_reading_measure_and_the_bar_stays(new_page):
    page = new_page(viewport={"width": 1280, "height": 700})
    new_post(page, "measurer")
    body = page.get_by_label("Body")
    characters = body.evaluate(
        """(area) => {
            const style = getComputedStyle(area);
            const probe = document.createElement("span");
            probe.style.font = style.font;
            probe.style.whiteSpace = "pre";
            probe.textContent = "The quick brown fox jumps over the lazy dog. ";
            document.body.append(probe);
            const each = probe.getBoundingClientRect().width / probe.textContent.length;
            probe.remove();
            const inner = area.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return inner / each;
        }"""
    )
    assert 60 <= characters <= 75, characters
    # The editor is wider than the reading column of other pages.
    main_width = page.locator("main").evaluate("e => e.getBoundingClientRect().width")
    assert main_width > 1100
    body.fill("line\n" * 120)
    page.mouse.wheel(0, 2500)
    page.wait_for_function("() => window.scrollY > 2000")
    page.wait_for_timeout(300)
    bar = page.locator(".editor-bar")
    expect(bar.get_by_role("button", name="Publish")).to_be_in_viewport()
    assert bar.bounding_box()["y"] <= 1


def test_enter_in_the_title_goes_to_the_text(new_page):
    page = new_page()
    new_post(page, "entering")
    page.get_by_label("Title").fill("A title")
    page.get_by_label("Title").press("Enter")
    expect(page.get_by_label("Body")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/create$"))
    page.keyboard.type("The text.")
    expect(page.get_by_label("Body")).to_have_value("The text.")


def test_a_new_post_becomes_a_draft_from_its_first_words(new_page, screenshot):
    page = new_page()
    new_post(page, "autosaver")
    page.get_by_label("Body").press_sequentially("First words")
    expect(page.locator(".editor-status")).to_contain_text(
        re.compile(r"Saved \d{1,2}:\d{2}")
    )
    expect(page).to_have_url(re.compile(r"/\d+/update$"))
    expect(page.locator(".editor-state")).to_have_text("Draft")
    page.get_by_label("Title").fill("Named later")
    page.get_by_label("Body").press_sequentially(", then more.")
    expect(page.locator(".editor-status")).to_contain_text("Saved")
    screenshot(page, "1-autosaved")
    page.reload()
    expect(page.get_by_label("Body")).to_have_value("First words, then more.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").first).to_contain_text("Your post is published")
    open_account_menu(page)
    page.get_by_role("link", name="Drafts").click()
    expect(page.get_by_text("You have no drafts")).to_be_visible()
    # One post, not two.
    page.goto("/u/autosaver")
    expect(page.get_by_role("link", name="Named later")).to_have_count(1)


def test_back_after_publish_then_publish_again_makes_one_post(new_page):
    page = new_page()
    new_post(page, "doubler")
    # Typed and published faster than an autosave: the form made the post.
    page.get_by_label("Title").fill("Only once")
    page.get_by_label("Body").fill("Published once.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").first).to_contain_text("Your post is published")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/create$"))
    page.get_by_label("Title").fill("Only once")
    page.get_by_label("Body").fill("Published once, edited.")
    page.get_by_role("button", name="Publish").click()
    page.goto("/u/doubler")
    expect(page.get_by_role("link", name="Only once")).to_have_count(1)
    page.get_by_role("link", name="Only once").click()
    expect(page.get_by_role("article")).to_contain_text("Published once, edited.")


def test_a_draft_autosaves_and_survives_a_reload(new_page, screenshot):
    page = new_page()
    new_post(page, "redrafter")
    page.get_by_label("Title").fill("Saved as I type")
    page.get_by_label("Body").fill("The start.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("link", name="Edit").first.click()
    body = page.get_by_label("Body")
    body.press("Control+End")
    body.press_sequentially(" More words, typed later.")
    expect(page.locator(".editor-status")).to_contain_text(
        re.compile(r"Saved \d{1,2}:\d{2}")
    )
    screenshot(page, "1-saved")
    page.reload()
    expect(page.get_by_label("Body")).to_have_value(
        "The start. More words, typed later."
    )
    # Saving from the form after autosaves is not refused as a stale version.
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")


def test_leaving_with_changes_not_saved_asks_first(new_page):
    page = new_page()
    new_post(page, "leaver")
    # The server does not answer autosaves here: the change stays unsaved
    # however slowly the test runs.
    page.route("**/create/autosave", lambda route: route.abort())
    page.get_by_label("Title").press_sequentially("Half a thought")
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    open_account_menu(page)
    page.get_by_role("link", name="Drafts").click()
    assert dialogs == ["beforeunload"]
    expect(page.get_by_label("Title")).to_have_value("Half a thought")


def test_a_picture_added_with_its_description_asked_in_the_page(
    new_page, screenshot, tmp_path
):
    page = new_page(viewport={"width": 1280, "height": 900})
    reports = csp_reports(page)
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.type))
    new_post(page, "illustrator")
    page.get_by_label("Title").fill("Pictures in the text")
    page.get_by_label("Body").fill("Before the picture.")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add picture").click()
    chooser.value.set_files(picture(tmp_path, "orange.png"))
    alt = page.get_by_role(
        "textbox", name="Describe the picture for people who cannot see it"
    )
    expect(alt).to_be_focused()
    screenshot(page, "1-asking-alt")
    # Without a description nothing is uploaded.
    page.get_by_role("button", name="Insert picture").click()
    expect(alt).to_have_accessible_description(re.compile("Describe the picture first"))
    alt.fill("An orange rectangle")
    alt.press("Enter")
    expect(page.get_by_label("Body")).to_have_value(
        re.compile(
            r"Before the picture\.\n\n!\[An orange rectangle\]\(/media/\S+\.webp\)"
        )
    )
    expect(page).to_have_url(re.compile(r"/create$|/\d+/update$"))
    page.get_by_role("button", name="Preview").click()
    in_preview = page.get_by_role(
        "region", name="Preview (not saved yet)"
    ).get_by_alt_text("An orange rectangle")
    expect(in_preview).to_be_visible()
    assert loaded(in_preview)
    screenshot(page, "2-inserted")
    page.get_by_role("button", name="Publish").click()
    published = page.locator(".post-full").get_by_alt_text("An orange rectangle")
    expect(published).to_be_visible()
    assert loaded(published)
    assert dialogs == []  # no window.prompt
    assert reports == []


def drop(page, target, name, data, mime):
    page.locator(target).dispatch_event(
        "drop",
        {
            "dataTransfer": page.evaluate_handle(
                """([data, name, mime]) => {
                    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                    const transfer = new DataTransfer();
                    transfer.items.add(new File([bytes], name, { type: mime }));
                    return transfer;
                }""",
                [data, name, mime],
            )
        },
    )


def test_a_picture_dropped_on_the_text_is_inserted(new_page, tmp_path):
    page = new_page()
    new_post(page, "dropper")
    data = base64.b64encode(picture(tmp_path, "dropped.png").read_bytes()).decode()
    drop(page, "textarea[name=body]", "dropped.png", data, "image/png")
    page.get_by_role(
        "textbox", name="Describe the picture for people who cannot see it"
    ).fill("A dropped square")
    page.get_by_role("button", name="Insert picture").click()
    expect(page.get_by_label("Body")).to_have_value(
        re.compile(r"!\[A dropped square\]\(/media/\S+\.webp\)")
    )


def test_the_browser_refuses_a_picture_over_the_limit_before_sending(
    new_page, screenshot
):
    page = new_page()
    sent = []
    page.on(
        "request",
        lambda request: sent.append(request.url) if request.method == "POST" else None,
    )
    new_post(page, "bigpicture")
    page.get_by_label("Title").fill("Kept")
    huge = {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * 6_000_000}
    # Dropped into the text: refused with the reason, nothing asked or sent.
    data = base64.b64encode(huge["buffer"]).decode()
    before = len(sent)
    drop(page, "textarea[name=body]", "huge.jpg", data, "image/jpeg")
    expect(page.locator(".picture-note")).to_have_text(
        "Not added: This picture is 6 MB; the limit is 5 MB. Choose a smaller one."
    )
    expect(page.locator(".picture-dialog")).to_be_hidden()
    # As the cover: the input is emptied and says why.
    open_settings(page)
    cover = page.get_by_label("Cover picture", exact=True)
    cover.set_input_files(huge)
    refusal = page.get_by_role("alert").filter(has_text="This picture is 6 MB")
    expect(refusal).to_be_visible()
    assert cover.evaluate("input => input.files.length") == 0
    # No upload was sent (autosaves of the text may be).
    assert not [url for url in sent[before:] if url.endswith("/images")]
    screenshot(page, "1-refused")
    expect(page.get_by_label("Title")).to_have_value("Kept")


def test_the_schedule_starts_in_the_browsers_zone(new_page):
    page = new_page(timezone_id="Asia/Tokyo")
    new_post(page, "planner")
    open_settings(page)
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    publish = page.locator(".editor-bar").get_by_role("button", name="Publish")
    expect(publish).to_be_visible()
    page.get_by_label("Publish at").fill(f"{dt.date.today().year + 1}-01-02T09:30")
    schedule = page.locator(".editor-bar").get_by_role("button", name="Schedule")
    expect(schedule).to_have_attribute("value", "schedule")
    page.get_by_label("Title").fill("Later")
    schedule.click()
    expect(page.get_by_role("status").first).to_contain_text("Scheduled")
    expect(page.get_by_role("status").first).to_contain_text(
        str(dt.date.today().year + 1)
    )


def test_on_a_phone_the_preview_takes_the_texts_place(new_page, screenshot):
    page = new_page(viewport={"width": 390, "height": 844})
    new_post(page, "phonewriter")
    page.get_by_label("Title").fill("Small screen")
    page.get_by_label("Body").fill("Words on a *phone*.")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview (not saved yet)")
    expect(preview.locator("em")).to_have_text("phone")
    expect(preview).to_be_in_viewport()
    expect(page.get_by_label("Body")).to_be_hidden()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "1-previewing")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_label("Body")).to_be_visible()
    expect(preview).to_be_hidden()


def test_a_profile_picture_over_the_limit_is_refused_in_the_page(new_page):
    page = new_page()
    register_and_log_in(page, "bigface")
    page.goto("/auth/account")
    sent = []
    page.on(
        "request",
        lambda request: sent.append(request.url) if request.method == "POST" else None,
    )
    field = page.get_by_label("New picture")
    field.set_input_files(
        {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * 7_300_000}
    )
    refusal = page.get_by_role("alert").filter(has_text="This picture is 7.3 MB")
    expect(refusal).to_have_text(
        "This picture is 7.3 MB; the limit is 5 MB. Choose a smaller one."
    )
    assert field.evaluate("input => input.files.length") == 0
    expect(field).to_have_attribute("aria-invalid", "true")
    assert sent == []

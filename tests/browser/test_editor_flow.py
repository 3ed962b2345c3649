"""The editor in Chromium: the live preview, autosave across a reload, the
warning before leaving with changes not saved, under the strict CSP."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_blog_flow import open_account_menu
from tests.browser.test_blog_flow import register_and_log_in


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


def test_the_preview_follows_the_typing(new_page, screenshot):
    page = new_page()
    reports = csp_reports(page)
    register_and_log_in(page, "typist")
    page.get_by_role("link", name="New post").first.click()
    page.get_by_label("Title").fill("Live")
    page.get_by_label("Body").press_sequentially("Hello **world**, `code`")
    preview = page.get_by_label("Live preview")
    expect(preview.locator("strong")).to_have_text("world")
    expect(preview.locator("code")).to_have_text("code")
    expect(page.locator(".editor-status")).to_contain_text("3 words · 1 min read")
    screenshot(page, "1-side-by-side")
    assert reports == []


def test_a_draft_autosaves_and_survives_a_reload(new_page, screenshot):
    page = new_page()
    register_and_log_in(page, "autosaver")
    page.get_by_role("link", name="New post").first.click()
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
    register_and_log_in(page, "leaver")
    page.get_by_role("link", name="New post").first.click()
    page.get_by_label("Title").press_sequentially("Half a thought")
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    open_account_menu(page)
    page.get_by_role("link", name="Drafts").click()
    expect(page).to_have_url(re.compile(r"/create$"))
    assert dialogs == ["beforeunload"]
    expect(page.get_by_label("Title")).to_have_value("Half a thought")


def test_a_picture_uploaded_into_the_text_is_in_the_published_post(
    new_page, screenshot, tmp_path
):
    from tests.browser.test_images_are_kept import loaded
    from tests.browser.test_images_are_kept import picture

    page = new_page()
    reports = csp_reports(page)
    register_and_log_in(page, "illustrator")
    page.get_by_role("link", name="New post").first.click()
    page.get_by_label("Title").fill("Pictures in the text")
    page.get_by_label("Body").fill("Before the picture.")
    page.on("dialog", lambda dialog: dialog.accept("An orange rectangle"))
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Insert picture…").click()
    chooser.value.set_files(picture(tmp_path, "orange.png"))
    expect(page.get_by_label("Body")).to_have_value(
        re.compile(
            r"Before the picture\.\n\n!\[An orange rectangle\]\(/media/\S+\.webp\)"
        )
    )
    in_preview = page.get_by_label("Live preview").get_by_alt_text(
        "An orange rectangle"
    )
    expect(in_preview).to_be_visible()
    assert loaded(in_preview)
    screenshot(page, "1-inserted")
    page.get_by_role("button", name="Publish").click()
    published = page.locator(".post-full").get_by_alt_text("An orange rectangle")
    expect(published).to_be_visible()
    assert loaded(published)
    screenshot(page, "2-published")
    assert reports == []


def test_a_picture_dropped_on_the_text_is_inserted(new_page, tmp_path):
    import base64

    from tests.browser.test_images_are_kept import picture

    page = new_page()
    register_and_log_in(page, "dropper")
    page.get_by_role("link", name="New post").first.click()
    page.on("dialog", lambda dialog: dialog.accept("A dropped square"))
    data = base64.b64encode(picture(tmp_path, "dropped.png").read_bytes()).decode()
    page.get_by_label("Body").dispatch_event(
        "drop",
        {
            "dataTransfer": page.evaluate_handle(
                """(data) => {
                    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                    const transfer = new DataTransfer();
                    transfer.items.add(
                        new File([bytes], "dropped.png", { type: "image/png" })
                    );
                    return transfer;
                }""",
                data,
            )
        },
    )
    expect(page.get_by_label("Body")).to_have_value(
        re.compile(r"!\[A dropped square\]\(/media/\S+\.webp\)")
    )

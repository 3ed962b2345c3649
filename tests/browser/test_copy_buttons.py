"""Copy buttons on the account page (a new API token) and on Your pictures
(a picture's Markdown): shown by copy.js, they put the text on the clipboard;
without scripts the text is there to select, and no button shows."""

from __future__ import annotations

import io

from playwright.sync_api import expect

from tests.browser.helpers import register_and_log_in


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "#2b9d8f").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_new_token_and_a_pictures_markdown_are_copied(new_page, live_server):
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server
    )
    register_and_log_in(page, "copier")

    page.goto("/auth/account")
    page.get_by_label("Name of a new token").fill("Backup script")
    page.get_by_role("button", name="Make a token").click()
    token = page.locator("#new-token-value").input_value()
    assert len(token) == 43
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token

    page.goto("/images")
    page.get_by_label("Picture", exact=True).set_input_files(
        {"name": "p.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_label("Description (alt text)").fill("A green field")
    page.get_by_role("button", name="Add picture").click()
    markdown = page.get_by_label("Markdown").input_value()
    assert markdown.startswith("![A green field](/media/")
    page.get_by_role("button", name="Copy the Markdown of “A green field”").click()
    expect(page.locator(".copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == markdown

    # Deleting asks first: the button shows once "Delete…" is opened.
    delete = page.get_by_role("button", name="Delete picture “A green field”")
    expect(delete).to_be_hidden()
    page.get_by_text("Delete", exact=False).filter(has_text="…").first.click()
    delete.click()
    expect(page.get_by_role("status").first).to_contain_text("The picture is deleted")


def test_a_feed_address_is_copied_on_the_subscribe_page(new_page, live_server):
    page = new_page()
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server
    )
    page.goto("/subscribe")
    page.get_by_role("button", name="Copy the RSS address").click()
    rss = page.locator(".copy-field").nth(1)
    expect(rss.locator(".copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server}/feed.rss"


def test_without_scripts_the_text_is_there_and_no_button(new_page):
    page = new_page(java_script_enabled=False)
    register_and_log_in(page, "noscript")
    page.goto("/auth/account")
    page.get_by_label("Name of a new token").fill("Backup script")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator("#new-token-value")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()

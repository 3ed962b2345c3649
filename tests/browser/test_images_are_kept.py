"""An image chosen in the post form survives a preview and a form sent back
with an error: the browser forgets the file, Flaskr holds it."""

import re

from playwright.sync_api import expect

from tests.browser.helpers import loaded
from tests.browser.helpers import picture
from tests.browser.helpers import register_and_log_in


def new_post_with_picture(new_page, tmp_path, username, title, alt="", **options):
    """A logged-in writer's new-post form, with a title and a picture chosen."""
    page = new_page(**options)
    register_and_log_in(page, username)
    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill(title)
    page.get_by_text("Post settings").click()
    page.get_by_label("Cover picture", exact=True).set_input_files(picture(tmp_path))
    page.get_by_label("Cover description (alt text)").fill(alt)
    return page


def expect_published_picture(page, alt):
    published = page.get_by_role("article").get_by_role("img", name=alt)
    expect(published).to_be_visible()
    assert loaded(published)


def test_a_preview_shows_and_keeps_the_image(new_page, tmp_path, screenshot):
    # The server's preview (the script previews in the page without sending).
    page = new_post_with_picture(
        new_page, tmp_path, "painter", "Evening", "Orange", java_script_enabled=False
    )
    page.get_by_label("Body").fill("The sky *tonight*.")
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("region", name="Preview (not saved yet)")
    shown = preview.get_by_role("img", name="Orange")
    expect(shown).to_be_visible()
    assert loaded(shown)
    expect(page.get_by_text("The image you chose, kept for you")).to_be_visible()
    screenshot(page, "held-image-preview")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Evening")
    expect_published_picture(page, "Orange")


def test_an_error_keeps_the_image_until_it_is_fixed(new_page, tmp_path):
    page = new_post_with_picture(new_page, tmp_path, "sketcher", "Lines")
    page.get_by_role("button", name="Publish").click()

    alt = page.get_by_label("Cover description (alt text)")
    expect(alt).to_have_accessible_description(re.compile("Describe the picture"))
    expect(page.get_by_text("The image you chose, kept for you")).to_be_visible()
    alt.fill("Pencil lines")
    page.get_by_role("button", name="Publish").click()
    expect_published_picture(page, "Pencil lines")


def test_setting_the_image_aside_says_so(new_page, tmp_path):
    page = new_post_with_picture(
        new_page, tmp_path, "changer", "Second", "Not this", java_script_enabled=False
    )
    page.get_by_role("button", name="Preview").click()
    page.get_by_label("Do not use this image").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("The image you chose was set aside")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Second")
    expect(page.get_by_role("article").get_by_role("img")).to_have_count(0)

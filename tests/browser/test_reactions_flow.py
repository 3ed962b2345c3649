import re

from PIL import Image as Pillow
from playwright.sync_api import expect

from tests.browser.helpers import open_account_menu
from tests.browser.helpers import register_and_log_in


def test_image_like_comment_trash_restore(new_page, screenshot, tmp_path):
    photo = tmp_path / "sunset.jpg"
    Pillow.new("RGB", (640, 360), (250, 120, 40)).save(photo, "JPEG")

    author = new_page()
    register_and_log_in(author, "photographer")
    author.get_by_role("link", name="Write").click()
    author.get_by_label("Title").fill("Orange evening")
    author.get_by_text("Post settings").click()
    author.get_by_label("Cover picture", exact=True).set_input_files(str(photo))
    author.get_by_label("Cover description (alt text)").fill("An orange sky")
    author.get_by_role("button", name="Publish").click()
    picture = author.get_by_role("img", name="An orange sky")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") == 640
    post_url = author.url
    screenshot(author, "1-with-image")

    reader = new_page()
    register_and_log_in(reader, "admirer")
    reader.goto(post_url)
    reader.get_by_role("button", name="Like").click()
    expect(reader.get_by_role("button", name="Liked")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(reader.locator("#likes")).to_contain_text("1 like")
    reader.get_by_label("Your comment").fill("What a sky!\nThank you.")
    reader.get_by_role("button", name="Post comment").click()
    comment = reader.get_by_role("article", name="Comment by admirer")
    expect(comment).to_contain_text("What a sky!")
    screenshot(reader, "2-liked-and-commented")

    author.goto("/")
    summary = author.get_by_role("article").filter(has_text="Orange evening")
    expect(summary).to_contain_text("1 like")
    expect(summary).to_contain_text("1 comment")
    expect(summary.get_by_role("img", name="An orange sky")).to_be_visible()

    author.goto(post_url)
    author.get_by_role("link", name="Edit", exact=True).click()
    author.get_by_role("link", name="Delete this post…").click()
    author.get_by_role("button", name="Move to trash").click()
    expect(author.get_by_role("status")).to_contain_text(
        "Moved “Orange evening” to the trash"
    )
    reader.goto(post_url)
    expect(reader.get_by_role("heading", name="Not Found")).to_be_visible()

    open_account_menu(author)
    author.get_by_role("link", name="Trash").click()
    screenshot(author, "3-trash")
    author.get_by_role("button", name=re.compile("^Restore")).click()
    expect(author.get_by_role("status")).to_contain_text("Restored “Orange evening”")
    expect(author.get_by_role("img", name="An orange sky")).to_be_visible()
    expect(author.get_by_role("article", name="Comment by admirer")).to_contain_text(
        "What a sky!"
    )
    expect(author.locator("#likes")).to_contain_text("1 like")
    screenshot(author, "4-restored")

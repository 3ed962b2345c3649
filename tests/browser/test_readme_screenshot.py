"""The screenshot in the README: a newcomer's first post, as it is shown.

Saved as test-artifacts/screenshots/readme-post.png; copy it to
docs/screenshot.png when the look of the site changes.
"""

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import register_and_log_in

POST = """Flaskr keeps the tutorial's shape and adds what a real blog needs:

- **Markdown**, with line breaks kept
- tags, search and feeds
- likes, comments and images

```python
app = create_app()
```
"""


def test_readme_screenshot(new_page):
    page = new_page(viewport={"width": 1000, "height": 720})
    register_and_log_in(page, "newcomer")
    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill("Hello, Flaskr")
    page.get_by_label("Body").fill(POST)
    page.get_by_text("Post settings").click()
    page.get_by_label("Tags").fill("welcome, flask")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Flaskr")
    expect(page.get_by_role("article").locator("strong")).to_have_text("Markdown")
    item = page.get_by_role("listitem").filter(has_text="tags, search and feeds")
    expect(item).to_be_visible()
    expect(page.locator("pre code")).to_contain_text("create_app()")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "readme-post.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one

import re
from pathlib import Path

import pytest
from flask import abort

import flaskr


def assert_site_error_page(response, code, words):
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert f"Error {code}" in page
    assert words in page
    assert '<html lang="en">' in page
    assert 'href="#main"' in page  # in the site's layout
    assert "Traceback" not in page
    assert 'File "' not in page


def test_404(client):
    assert_site_error_page(client.get("/no/such/page"), 404, "nothing at this address")


def test_405(client):
    assert_site_error_page(client.put("/create"), 405, "does not accept")


def test_413_body_over_limit(client):
    response = client.post("/auth/login", data={"username": "x" * (1024 * 1024 + 1)})
    assert_site_error_page(response, 413, "too large")


def test_413_limit_is_configurable(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1000)
    response = app.test_client().post("/auth/login", data={"username": "x" * 2000})
    assert response.status_code == 413


def test_trace_is_not_allowed(client):
    assert client.open("/", method="TRACE").status_code == 405


@pytest.fixture
def failing_app(app_with):
    app = app_with(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @app.route("/busy")
    def busy():
        abort(429)

    return app


def test_500_shows_no_internals(failing_app):
    response = failing_app.test_client().get("/boom")
    assert_site_error_page(response, 500, "went wrong on our side")
    assert "secret internal detail" not in response.get_data(as_text=True)


def test_429_page(failing_app):
    assert_site_error_page(failing_app.test_client().get("/busy"), 429, "Too many")


def test_403(app, client, auth):
    auth.login("other", "other")
    assert_site_error_page(client.get("/1/update"), 403, "Only its writer or an editor")


def test_400_page_for_bad_input(client):
    assert_site_error_page(client.get("/?before=nonsense"), 400, "page link")


TEMPLATES = Path(flaskr.__file__).parent / "templates"


#: Pages' templates: mails are read by mail programs, which apply no CSP and
#: want their styles inline (the newsletter's CSS is inlined when it is sent).
PAGE_TEMPLATES = sorted(
    path
    for path in TEMPLATES.rglob("*.html")
    if path.relative_to(TEMPLATES).parts[0] != "mail"
)


def test_mail_templates_are_left_out_of_the_page_checks_and_no_more():
    left_out = {
        path.relative_to(TEMPLATES).parts[0]
        for path in TEMPLATES.rglob("*.html")
        if path not in PAGE_TEMPLATES
    }
    assert left_out == {"mail"}
    assert TEMPLATES / "base.html" in PAGE_TEMPLATES


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=str)
def test_no_inline_script_or_style(template):
    """A strict Content-Security-Policy (no 'unsafe-inline') must stay possible:
    scripts only from this site's static files, and empty."""
    text = template.read_text()
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, re.S)
    assert all(content == "" for content in scripts)
    own = (
        r"<script src=\"\{\{ url_for\('static', filename='[a-z-]+\.js'\) \}\}\" defer>"
    )
    assert text.count("<script") == len(re.findall(own, text))
    assert "<style" not in text
    assert not re.search(r"\sstyle=", text)
    assert not re.search(r"\son[a-z]+=", text)
    assert "//cdn" not in text and "https://" not in text

import pytest
from flask import g
from flask import url_for

from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.helpers import count_posts

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response):
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers[name] == value, name
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "unsafe-inline" not in policy
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/static/style.css", 200),
        ("GET", "/no/such/page", 404),
        ("GET", "/create", 302),
        ("PUT", "/", 405),
        ("POST", "/create", 400),
    ],
)
def test_headers_on_every_response(client, method, path, status):
    with client.open(path, method=method) as response:
        assert response.status_code == status
        assert_security_headers(response)


def test_405_says_which_methods_are_allowed(client):
    response = client.put("/auth/login")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_logged_in_pages_are_not_cached(client, auth):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login = auth.login()
    assert login.headers["Cache-Control"] == "no-store"
    for path in ("/", "/create", "/1/update", "/no/such/page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_https_site(app_with):
    app = app_with(HTTPS=True)
    client = app.test_client()

    # Flask's test client uses PREFERRED_URL_SCHEME (https here) unless told.
    http = "http://localhost"
    plain = client.get("/auth/login?next=/create", base_url=http)
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://localhost/auth/login?next=/create"
    assert client.post("/auth/login", base_url=http).status_code == 403

    secure = client.get("/auth/login", base_url="https://localhost")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )
    cookie = secure.headers["Set-Cookie"]
    assert cookie.startswith("__Host-flaskr_session=")
    assert "Secure" in cookie
    assert "Domain" not in cookie
    assert "Path=/" in cookie
    with app.test_request_context():
        assert url_for("index", _external=True).startswith("https://")


def test_no_hsts_without_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize(("hops", "secure"), [(0, False), (1, True)])
def test_trusted_proxy_hops(app_with, hops, secure):
    app = app_with(HTTPS=True, TRUSTED_PROXY_HOPS=hops)
    response = app.test_client().get(
        "/",
        base_url="http://localhost",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
    )
    if secure:
        assert response.status_code == 200
        assert "Strict-Transport-Security" in response.headers
    else:
        assert response.status_code == 301  # The header was not trusted.


def test_forwarded_address_is_used_for_throttling(app_with):
    app = app_with(
        RATELIMIT_ENABLED=True,
        TRUSTED_PROXY_HOPS=1,
        LOGIN_ADDRESS_LIMITS="2 per minute",
    )
    client = app.test_client()

    def attempt(address):
        return client.post(
            "/auth/login",
            data={
                "username": "test",
                "password": "wrong",
                "csrf_token": csrf_token_from(client, "/auth/login"),
            },
            headers={"X-Forwarded-For": address},
        ).status_code

    assert [attempt("203.0.113.7") for _ in range(3)] == [422, 422, 429]
    assert attempt("203.0.113.8") == 422


def create_post_with_headers(client, headers):
    """Log in and post a new post with a valid CSRF token and these headers."""
    AuthActions(client).login()
    token = csrf_token_from(client, "/create")
    return client.post(
        "/create", data={"title": "a post", "csrf_token": token}, headers=headers
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
        {"Sec-Fetch-Site": "same-site", "Origin": "null"},
    ],
)
def test_cross_site_requests_are_refused(app, client, headers):
    response = create_post_with_headers(client, headers)
    assert response.status_code == 403
    assert b"came from another site" in response.data
    assert count_posts(app) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        {"Sec-Fetch-Site": "none"},
        # A page sent with Referrer-Policy: no-referrer (the password reset).
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},
    ],
)
def test_same_site_requests_pass(app, client, headers):
    response = create_post_with_headers(client, headers)
    assert response.status_code == 302
    assert count_posts(app) == 2


def test_cross_site_login_is_refused(client):
    token = csrf_token_from(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    with client:
        client.get("/")
        assert g.user is None

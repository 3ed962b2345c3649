"""Whatever a client sends to a form, the answer is a page, never a 500."""

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from tests.conftest import csrf_token_from

# Any text a browser or script can send, NUL and control characters included.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
fuzz = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@fuzz
@given(username=text, password=text)
def test_register_and_login_forms(client, username, password):
    for path in ("/auth/register", "/auth/login"):
        token = csrf_token_from(client, path)
        response = client.post(
            path,
            data={"username": username, "password": password, "csrf_token": token},
        )
        assert response.status_code in (302, 422), (path, response.status)
        if response.status_code == 302 and path == "/auth/login":
            client.post(
                "/auth/logout",
                data={"csrf_token": csrf_token_from(client, "/auth/logout")},
            )


@fuzz
@given(title=text, body=text, next_page=text)
def test_post_forms(client, auth, title, body, next_page):
    auth.login()
    for path in ("/create", "/1/update"):
        token = csrf_token_from(client, path)
        response = client.post(
            path, data={"title": title, "body": body, "csrf_token": token}
        )
        assert response.status_code in (302, 422), (path, response.status)
    response = client.get("/auth/login", query_string={"next": next_page})
    assert response.status_code == 200
    assert client.get("/", query_string={"before": next_page}).status_code in (200, 400)

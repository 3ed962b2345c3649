import pytest

from flaskr import create_app


@pytest.fixture
def production(tmp_path, monkeypatch):
    """Settings of a sound production site, as environment variables."""
    for name in ("FLASK_DEBUG", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    settings = {
        "FLASKR_INSTANCE_PATH": str(tmp_path),
        "FLASKR_SECRET_KEY": "s" * 64,
        "FLASKR_DATABASE_URL": "postgresql+psycopg://flaskr@db.internal/flaskr",
        "FLASKR_HTTPS": "true",
        "FLASKR_TRUSTED_PROXY_HOPS": "1",
        "FLASKR_RATELIMIT_STORAGE_URI": "redis://cache.internal:6379",
        "FLASKR_MAIL_SERVER": "smtp.internal",
        "FLASKR_SITE_URL": "https://blog.example",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def check(*args):
    result = create_app().test_cli_runner().invoke(args=["check-deploy", *args])
    return result.exit_code, result.output


def test_sound_settings_pass(production):
    assert check("--servers", "3", "--workers", "4") == (
        0,
        "No unsafe settings found.\n",
    )


@pytest.mark.parametrize(
    ("change", "args", "words"),
    [
        ({"FLASK_DEBUG": "1"}, [], "Debug mode is on"),
        ({"FLASKR_HTTPS": "false"}, [], "HTTPS is off"),
        ({"FLASKR_TRUSTED_PROXY_HOPS": "0"}, [], "TRUSTED_PROXY_HOPS is 0"),
        ({"FLASKR_SECRET_KEY": ""}, ["--servers", "2"], "same FLASKR_SECRET_KEY"),
        ({"FLASKR_DATABASE_URL": ""}, ["--servers", "2"], "cannot share a SQLite"),
        ({"FLASKR_RATELIMIT_STORAGE_URI": "memory://"}, ["--workers", "2"], "redis://"),
        ({"FLASKR_RATELIMIT_ENABLED": "false"}, [], "Throttling is off"),
        ({"FLASKR_WTF_CSRF_ENABLED": "false"}, [], "CSRF protection is off"),
        ({"FLASKR_MAIL_SERVER": ""}, [], "No MAIL_SERVER"),
        ({"FLASKR_SITE_URL": ""}, [], "SITE_URL is not"),
        ({"FLASKR_SITE_URL": "http://blog.example"}, [], "not an https://"),
        ({"FLASKR_COMMENT_HOLD_RULES": "links,link"}, [], "do not exist: link"),
        ({"FLASKR_REGISTER_MIN_FILL_SECONDS": "0"}, [], "not timed"),
    ],
)
def test_unsafe_settings_are_reported(production, change, args, words):
    for name, value in change.items():
        if value:
            production.setenv(name, value)
        else:
            production.delenv(name)
    code, output = check(*args)
    assert code == 1
    assert words in output


def test_one_process_may_count_in_memory_and_keep_its_own_key(production):
    production.delenv("FLASKR_SECRET_KEY")
    production.setenv("FLASKR_RATELIMIT_STORAGE_URI", "memory://")
    assert check()[0] == 0


def test_workers_default_from_web_concurrency(production):
    production.setenv("FLASKR_RATELIMIT_STORAGE_URI", "memory://")
    production.setenv("WEB_CONCURRENCY", "3")
    code, output = check()
    assert code == 1
    assert "3 processes" in output

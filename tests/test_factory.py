import os
import stat
import subprocess
import sys

import pytest

from flaskr import create_app
from flaskr.config import SECRET_KEY_FILE


def test_config(make_app, instance):
    assert not create_app().testing
    assert make_app().testing
    assert (instance / SECRET_KEY_FILE).exists()  # not in the checkout


def test_hello(client):
    response = client.get("/hello")
    assert response.data == b"Hello, World!"


def test_defaults(app):
    assert app.config["POSTS_PER_PAGE"] == 10
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A fresh instance folder, and an environment with no Flaskr settings."""
    for name in list(os.environ):
        if name.startswith("FLASKR_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "instance"
    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("FLASKR_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return folder


def test_secret_key_generated_once_and_private(instance, caplog):
    first = create_app()
    key_file = instance / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 64
    assert "generated one" in caplog.text

    caplog.clear()
    second = create_app()
    assert second.secret_key == first.secret_key
    assert "generated one" not in caplog.text


def test_environment_overrides_instance_config(instance, monkeypatch):
    instance.mkdir()
    (instance / "config.py").write_text(
        "POSTS_PER_PAGE = 5\nSECRET_KEY = 'k' * 40\nSESSION_IDLE_TIMEOUT = 60\n"
    )
    app = create_app()
    assert app.config["POSTS_PER_PAGE"] == 5
    assert app.secret_key == "k" * 40
    assert app.config["SESSION_IDLE_TIMEOUT"].total_seconds() == 60
    assert not (instance / SECRET_KEY_FILE).exists()

    monkeypatch.setenv("FLASKR_POSTS_PER_PAGE", "7")
    monkeypatch.setenv("FLASKR_SECRET_KEY", "e" * 40)
    app = create_app()
    assert app.config["POSTS_PER_PAGE"] == 7
    assert app.secret_key == "e" * 40


def test_database_url_setting(instance, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    monkeypatch.setenv("FLASKR_DATABASE_URL", url)
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == url
    monkeypatch.delenv("FLASKR_DATABASE_URL")
    default = create_app().config["SQLALCHEMY_DATABASE_URI"]
    assert default == f"sqlite:///{instance / 'flaskr.sqlite'}"


@pytest.mark.parametrize("key", ["dev", "secret", "short-key"])
def test_refuses_published_or_short_key(instance, monkeypatch, key):
    monkeypatch.setenv("FLASKR_SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="FLASKR_SECRET_KEY"):
        create_app()


def test_debug_mode_accepts_dev_key(instance, monkeypatch):
    monkeypatch.setenv("FLASKR_SECRET_KEY", "dev")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert create_app().secret_key == "dev"


def test_default_database_works_with_a_configured_key(instance, monkeypatch):
    monkeypatch.delenv("FLASKR_DATABASE_URL")
    monkeypatch.setenv("FLASKR_SECRET_KEY", "k" * 40)
    app = create_app()
    result = app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert (instance / "flaskr.sqlite").exists()


def run_python(code, instance_path):
    env = {**os.environ, "FLASKR_INSTANCE_PATH": str(instance_path)}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )


#: What a worker serving pages never needs: commands and migrations (alembic),
#: uploads (PIL), saving a post (markdown_it, nh3), passkeys (webauthn,
#: OpenSSL), authenticator apps and sealed secrets (pyotp, segno,
#: cryptography), federation (urllib3), mail (css_inline), imports and
#: exports (yaml). bench/README.md ("Memory") has what each costs.
ONLY_FOR_WRITERS_AND_COMMANDS = (
    "alembic",
    "flask_migrate",
    "PIL",
    "markdown_it",
    "nh3",
    "webauthn",
    "OpenSSL",
    "cryptography",
    "pyotp",
    "segno",
    "urllib3",
    "css_inline",
    "yaml",
)


def test_a_web_worker_does_not_load_what_only_writers_and_commands_need(instance):
    """Reading pages, logged out, loads none of the libraries above."""
    flask = [sys.executable, "-m", "flask", "--app", "flaskr"]
    subprocess.run([*flask, "init-db", "--yes"], check=True)  # noqa: S603
    result = run_python(
        "import sys, flaskr\n"
        "app = flaskr.create_app()\n"
        "client = app.test_client()\n"
        "for page in ('/hello', '/', '/auth/login', '/auth/register', '/tags'):\n"
        "    assert client.get(page).status_code == 200, page\n"
        f"heavy = {ONLY_FOR_WRITERS_AND_COMMANDS!r}\n"
        "print(sorted(m for m in heavy if m in sys.modules))",
        instance,
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_flask_migrate_commands_work(tmp_path):
    env = {**os.environ, "FLASKR_INSTANCE_PATH": str(tmp_path)}
    flask = [sys.executable, "-m", "flask", "--app", "flaskr"]
    subprocess.run([*flask, "init-db", "--yes"], env=env, check=True)  # noqa: S603
    result = subprocess.run(  # noqa: S603
        [*flask, "db", "current"], env=env, capture_output=True, text=True
    )
    assert "(head)" in result.stdout, result.stderr

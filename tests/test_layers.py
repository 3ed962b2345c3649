"""The rules of the layers that import-linter cannot see: it checks which
modules import which, not which names they take from ``flask``."""

import ast
from pathlib import Path

import pytest

import flaskr

PACKAGE = Path(flaskr.__file__).parent

#: Names that exist only while a request is handled, and the HTTP error helpers.
REQUEST_NAMES = {"request", "session", "g", "abort", "redirect", "url_for"}
HTTP_MODULES = (
    "flask_wtf",
    "flask_limiter",
    "werkzeug.exceptions",
    "werkzeug.wrappers",
)

#: The services and everything below them.
BELOW_THE_WEB = sorted(
    [
        *PACKAGE.glob("services/**/*.py"),
        *PACKAGE.glob("models/**/*.py"),
        *(PACKAGE / n for n in ("schema.py", "db.py")),
    ]
)

#: The most lines a module under src/ may have (the developers' standards).
MAX_MODULE_LINES = 600


def relative(path):
    return path.relative_to(PACKAGE).as_posix()


def imported_from_flask(path):
    """(module, name) for each ``from X import name`` in the file."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


@pytest.mark.parametrize("path", BELOW_THE_WEB, ids=relative)
def test_services_and_below_know_nothing_of_requests(path):
    for module, name in imported_from_flask(path):
        assert not (module == "flask" and name in REQUEST_NAMES), (module, name)
        assert not module.startswith(HTTP_MODULES), module


def test_the_rule_sees_a_request_import(tmp_path):
    # The check above must be able to fail.
    sample = tmp_path / "sample.py"
    sample.write_text("from flask import request\nfrom flask_wtf import FlaskForm\n")
    found = list(imported_from_flask(sample))
    assert ("flask", "request") in found
    assert ("flask_wtf", "FlaskForm") in found


def test_services_below_the_web_are_all_checked():
    names = {relative(path) for path in BELOW_THE_WEB}
    assert {
        "services/accounts/users.py",
        "services/accounts/login_policy.py",
        "services/content/writing.py",
        "services/portability/imports.py",
        "models/__init__.py",
        "models/access.py",
        "db.py",
    } <= names


def test_no_module_is_over_the_line_limit():
    too_long = {
        relative(path): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_the_line_limit_sees_every_module():
    # The check above must be able to fail: it reads the models, the
    # migrations and the services' packages.
    found = {relative(path) for path in PACKAGE.rglob("*.py")}
    assert {
        "models/__init__.py",
        "services/content/writing.py",
        "migrations/env.py",
        "blueprints/blog/views.py",
    } <= found


TESTS = Path(__file__).parent


def imported_test_modules(path):
    """The ``test_*`` modules a file imports, at its top or inside a function."""
    for module, name in imported_from_flask(path):
        if module.split(".")[-1].startswith("test_"):
            yield module
        elif module.split(".")[0] == "tests" and (name or "").startswith("test_"):
            yield f"{module}.{name}"  # from tests import test_x


@pytest.mark.parametrize(
    "path",
    sorted(TESTS.rglob("*.py")),
    ids=lambda path: path.relative_to(TESTS).as_posix(),
)
def test_no_test_module_imports_another(path):
    """Shared builders live in tests/helpers.py (tests/browser/helpers.py for
    the browser's), fixtures in conftest.py."""
    assert list(imported_test_modules(path)) == []


def test_the_test_import_check_sees_imports_of_test_modules(tmp_path):
    # The check above must be able to fail.
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "from tests.test_images import png\n"
        "import tests.browser.test_blog_flow\n"
        "from tests.helpers import png\n"
        "from tests import test_blog\n"
        "def test_x():\n"
        "    from tests.test_account import delete_account\n"
    )
    assert sorted(imported_test_modules(sample)) == [
        "tests.browser.test_blog_flow",
        "tests.test_account",
        "tests.test_blog",
        "tests.test_images",
    ]

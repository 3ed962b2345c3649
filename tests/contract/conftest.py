"""The API contract tests: the public RealWorld Postman collection (newman)
and Schemathesis, each against a served Flaskr on a fresh database.

They are marked ``contract`` and run by ``./dev.sh contract``, which installs
newman from the npm registry at the version ``package-lock.json`` names.
"""

from __future__ import annotations

import os
import threading
import typing as t
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from flaskr import create_app
from flaskr.db import db
from flaskr.schema import init_db
from tests.conftest import make_config

HERE = Path(__file__).parent
#: RealWorld's spec and Postman collection: read where the project's brief keeps
#: them (``../shared/realworld`` beside the checkout), never copied in.
REALWORLD = Path(
    os.environ.get("FLASKR_REALWORLD_DIR", HERE.parents[2] / "shared" / "realworld")
)
REPORTS = HERE.parents[1] / "test-artifacts" / "contract"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.contract)


@pytest.fixture
def serve(tmp_path: Path) -> t.Iterator[t.Callable[..., str]]:
    """Serve a Flaskr with some settings on a fresh SQLite database, from a
    thread on a free port of 127.0.0.1; gives its address."""
    servers = []

    def start(**settings: t.Any) -> str:
        database = tmp_path / f"flaskr-{len(servers)}.sqlite"
        app = create_app(make_config(f"sqlite:///{database}", **settings))
        with app.app_context():
            init_db()
            db.engine.dispose()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join()

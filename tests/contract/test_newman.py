"""RealWorld's public Postman collection, run by newman against Flaskr: every
request answered and every one of its assertions true, read from newman's
JSON report rather than trusted from its exit status."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.contract.conftest import HERE
from tests.contract.conftest import REALWORLD
from tests.contract.conftest import REPORTS

NEWMAN = HERE / "node_modules" / ".bin" / "newman"
COLLECTION = REALWORLD / "Conduit.postman_collection.json"


def test_the_realworld_collection_passes(serve):
    if not NEWMAN.exists():
        pytest.fail(f"{NEWMAN} is missing: ./dev.sh contract installs it")
    if not COLLECTION.exists():
        pytest.fail(f"{COLLECTION} is missing")
    # Limits on as in production: the collection stays within them.
    site = serve(RATELIMIT_ENABLED=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / "newman.json"
    report.unlink(missing_ok=True)
    completed = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(COLLECTION),
            "--env-var",
            f"APIURL={site}/api",
            "--env-var",
            "USERNAME=newman",
            "--env-var",
            "EMAIL=newman@example.org",
            # Our password policy: long enough, and not a well-known one.
            "--env-var",
            "PASSWORD=twelve dragons of spring",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--disable-unicode",
            "--color",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_UPDATE_NOTIFIER": "1"},
    )
    print(completed.stdout[-5000:], completed.stderr[-2000:])
    run = json.loads(report.read_text())["run"]
    stats = run["stats"]
    failures = [
        (failure["source"]["name"], failure["error"]["message"])
        for failure in run["failures"]
    ]
    assert failures == []
    assert stats["requests"] == {"total": 32, "pending": 0, "failed": 0}
    assert stats["assertions"]["failed"] == 0
    assert stats["assertions"]["total"] > 300
    statuses = [
        execution["response"]["code"]
        for execution in run["executions"]
        if "response" in execution
    ]
    assert len(statuses) == 32 and max(statuses) < 500, statuses
    assert completed.returncode == 0

"""Schemathesis against Flaskr's API, twice: with its own description
(/api/openapi.json), and with RealWorld's spec (``openapi.yml`` beside the
Postman collection). No server error, and every answer as the document says
(content type, headers, body: errors in RealWorld's ``GenericErrorModel``),
with requests authenticated by a real token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import requests
import yaml

from tests.contract.conftest import REALWORLD
from tests.contract.conftest import REPORTS

PASSWORD = "twelve dragons of spring"
SHAPE_CHECKS = (
    "not_a_server_error,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
#: Our own document lists every status an operation answers with.
CHECKS = f"{SHAPE_CHECKS},status_code_conformance"
REALWORLD_SPEC = REALWORLD / "openapi.yml"

User = dict[str, str]


def _seeded_site(serve: t.Callable[..., str]) -> tuple[str, User]:
    """A served Flaskr with the fuzzing account and one article."""
    # Without limits: the run makes thousands of requests from one address.
    site = serve(RATELIMIT_ENABLED=False)
    user = {"username": "fuzz", "email": "fuzz@example.org", "password": PASSWORD}
    registered = requests.post(f"{site}/api/users", json={"user": user}, timeout=10)
    assert registered.status_code == 201
    token = registered.json()["user"]["token"]
    article = {"title": "Seed", "description": "", "body": "Text", "tagList": ["a"]}
    requests.post(
        f"{site}/api/articles",
        json={"article": article},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    ).raise_for_status()
    return site, user


def _run(
    site: str, user: User, document: str, checks: str, report_name: str, cwd: Path
) -> str:
    """Run Schemathesis with ``document`` against the site's API; its JUnit
    report, after checking that nothing failed."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    junit = REPORTS / report_name
    junit.unlink(missing_ok=True)
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            document,
            "--url",
            f"{site}/api",
            "--checks",
            checks,
            "--max-examples",
            "40",
            "--seed",
            "20261205",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,  # Schemathesis keeps a cache in its working directory
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_auth",
            "FLASKR_FUZZ_URL": site,
            "FLASKR_FUZZ_EMAIL": user["email"],
            "FLASKR_FUZZ_PASSWORD": PASSWORD,
            "PYTHONPATH": str(Path(__file__).parents[2]),
        },
    )
    print(completed.stdout[-8000:], completed.stderr[-3000:])
    assert completed.returncode == 0
    report = junit.read_text()
    assert 'failures="0"' in report and 'errors="0"' in report
    return report


def _operations(paths: dict[str, dict[str, object]]) -> int:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return sum(len(methods & set(operations)) for operations in paths.values())


def _tested(report: str) -> int:
    stateful = report.count('<testcase name="Stateful tests"')
    return report.count("<testcase ") - stateful


def test_the_api_keeps_its_own_description(serve, tmp_path):
    site, user = _seeded_site(serve)
    report = _run(
        site, user, f"{site}/api/openapi.json", CHECKS, "schemathesis.xml", tmp_path
    )
    # Every operation of the document was exercised.
    described = requests.get(f"{site}/api/openapi.json", timeout=10).json()
    operations = _operations(described["paths"])
    assert _tested(report) == operations, json.dumps(operations)


def test_the_api_answers_as_realworlds_spec_says(serve, tmp_path):
    if not REALWORLD_SPEC.exists():
        pytest.fail(f"{REALWORLD_SPEC} is missing")
    site, user = _seeded_site(serve)
    # Strict about what each answer holds, errors included; not about its
    # status: RealWorld's spec leaves out the 403 and 404 that its own
    # reference servers answer for someone else's article or a missing one.
    report = _run(
        site,
        user,
        str(REALWORLD_SPEC),
        SHAPE_CHECKS,
        "schemathesis-realworld.xml",
        tmp_path,
    )
    spec = yaml.safe_load(REALWORLD_SPEC.read_text())
    operations = _operations(spec["paths"])
    assert _tested(report) == operations, json.dumps(operations)

"""Schemathesis against Flaskr's API, described by its own /api/openapi.json:
no server error, and every answer as the document says (status, content
type, headers, body), with requests authenticated by a real token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.contract.conftest import REPORTS

PASSWORD = "twelve dragons of spring"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


def test_the_api_keeps_its_own_description(serve, tmp_path):
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
    REPORTS.mkdir(parents=True, exist_ok=True)
    junit = REPORTS / "schemathesis.xml"
    junit.unlink(missing_ok=True)
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{site}/api/openapi.json",
            "--url",
            f"{site}/api",
            "--checks",
            CHECKS,
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
        cwd=tmp_path,  # Schemathesis keeps a cache in its working directory
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
    # Every operation of the document was exercised.
    described = requests.get(f"{site}/api/openapi.json", timeout=10).json()
    operations = sum(len(methods) for methods in described["paths"].values())
    stateful = report.count('<testcase name="Stateful tests"')
    assert report.count("<testcase ") - stateful == operations, json.dumps(operations)

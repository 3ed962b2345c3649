#!/usr/bin/env bash
# Flaskr's developer commands. Each one installs what it needs first, so each
# works on a fresh Debian machine with Python 3.11, and running it again is safe.
#
#   ./dev.sh serve          run the site at http://127.0.0.1:5000 (SQLite)
#   ./dev.sh test [ARGS]    the test suite with pytest (SQLite), with coverage
#   ./dev.sh test-postgres  the suite on PostgreSQL (FLASKR_TEST_DATABASE_URL)
#   ./dev.sh browser        browser tests: Playwright driving Debian's Chromium
#   ./dev.sh multiserver    two gunicorn servers sharing PostgreSQL and Redis
#   ./dev.sh lint           ruff check and format, import layers, mypy
#   ./dev.sh lock           refresh constraints.txt from a fresh install
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PYTHON=${PYTHON:-python3}
DEFAULT_PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    command -v apt-get >/dev/null || { echo "Please install: $*" >&2; exit 1; }
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

ensure_venv() {
    if [[ ! -x $VENV/bin/python ]]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
            echo "Flaskr needs Python 3.11 or newer." >&2
            exit 1
        }
        # Debian ships venv's pip bootstrap separately.
        "$PYTHON" -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the dependency lists change.
    local stamp
    stamp=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
    if [[ ! -f $VENV/.installed || $(cat "$VENV/.installed") != "$stamp" ]]; then
        "$VENV/bin/python" -m pip install -qq --upgrade pip
        "$VENV/bin/python" -m pip install -qq -c constraints.txt -e '.[dev]'
        echo "$stamp" > "$VENV/.installed"
    fi
}

case "${1:-}" in
serve)
    ensure_venv
    "$VENV/bin/flask" --app flaskr upgrade-db
    exec "$VENV/bin/flask" --app flaskr run --host 127.0.0.1 --port 5000 --debug
    ;;
test)
    ensure_venv
    shift
    # Coverage with branches, kept out of the checkout (test-artifacts/).
    mkdir -p test-artifacts
    status=0
    "$VENV/bin/coverage" run -m pytest "$@" || status=$?
    "$VENV/bin/coverage" report > test-artifacts/coverage.txt || true
    echo "Coverage (lines and branches): $("$VENV/bin/coverage" report --format=total)%" \
        "- the modules below 100% are in test-artifacts/coverage.txt"
    exit $status
    ;;
test-postgres)
    ensure_venv
    shift
    FLASKR_TEST_DATABASE_URL=${FLASKR_TEST_DATABASE_URL:-$DEFAULT_PG_URL} \
        exec "$VENV/bin/pytest" "$@"
    ;;
browser)
    ensure_venv
    [[ -x /usr/bin/chromium ]] || apt_install chromium
    shift
    exec "$VENV/bin/pytest" -m browser "$@"
    ;;
multiserver)
    ensure_venv
    shift
    FLASKR_TEST_DATABASE_URL=${FLASKR_TEST_DATABASE_URL:-$DEFAULT_PG_URL} \
        exec "$VENV/bin/pytest" -m multiserver "$@"
    ;;
lint)
    ensure_venv
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/lint-imports" --no-cache | sed -n '/^Contracts/,$p'
    "$VENV/bin/mypy"
    ;;
lock)
    rm -rf "$VENV.lock"
    "$PYTHON" -m venv "$VENV.lock"
    "$VENV.lock/bin/pip" install -q -e '.[dev]'
    {
        echo "# Exact versions that CI and the dev script install (pip install -c constraints.txt)."
        echo "# Refresh: ./dev.sh lock"
        "$VENV.lock/bin/pip" freeze --exclude-editable | grep -v '^#'
    } > constraints.txt
    rm -rf "$VENV.lock"
    ;;
*)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

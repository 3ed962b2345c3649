#!/usr/bin/env bash
# Flaskr's developer commands. Each one installs what it needs first, so each
# works on a fresh Debian machine with Python 3.11, and running it again is safe.
#
#   ./dev.sh serve          run the site at http://127.0.0.1:5000 (SQLite);
#                           another port: --port N, or FLASKR_PORT=N
#   ./dev.sh test [ARGS]    the test suite with pytest (SQLite), with coverage
#   ./dev.sh test-postgres  the suite on PostgreSQL (FLASKR_TEST_DATABASE_URL)
#   ./dev.sh browser        browser tests: Playwright driving Debian's Chromium,
#                           with axe-core on every page
#   ./dev.sh contract       the JSON API against RealWorld's Postman collection
#                           (newman), and its own OpenAPI document and
#                           RealWorld's spec (Schemathesis)
#   ./dev.sh lighthouse     Lighthouse's scores of the main pages, as a phone
#                           sees them, in Debian's Chromium
#   ./dev.sh multiserver    two gunicorn servers sharing PostgreSQL and Redis
#   ./dev.sh federation     fediverse-pasture's peers and two Flaskr sites on
#                           loopback (pasture in .venv-pasture)
#   ./dev.sh production     nginx in front of gunicorn at http://127.0.0.1:8080
#   ./dev.sh slow-clients   the production stack against idle and slow clients
#   ./dev.sh lint           ruff check and format, import layers, mypy
#   ./dev.sh lock           refresh constraints.txt from a fresh install
#   ./dev.sh lock-pasture   refresh constraints-pasture.txt the same way
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

# What the script is doing, on stderr so that a command's own output stays
# clean for pipes.
say() {
    echo "==> $*" >&2
}

ensure_venv() {
    if [[ ! -x $VENV/bin/python ]]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
            echo "Flaskr needs Python 3.11 or newer." >&2
            exit 1
        }
        # Debian ships venv's pip bootstrap separately.
        "$PYTHON" -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
        say "Creating a virtual environment in $VENV/"
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the dependency lists change.
    local stamp
    stamp=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
    if [[ ! -f $VENV/.installed || $(cat "$VENV/.installed") != "$stamp" ]]; then
        say "Installing Flaskr and its dependencies into $VENV/" \
            "(the first time takes about a minute)"
        "$VENV/bin/python" -m pip install -qq --upgrade pip
        "$VENV/bin/python" -m pip install -qq -c constraints.txt -e '.[dev]'
        echo "$stamp" > "$VENV/.installed"
        say "Installed."
    fi
}

# fediverse-pasture (bovine, quart, tortoise-orm...) in an environment of its
# own, at the versions constraints-pasture.txt pins: the federation tests run
# it as a separate process, so none of it enters Flaskr's environment.
PASTURE_VENV=.venv-pasture
ensure_pasture_venv() {
    [[ -x $PASTURE_VENV/bin/python ]] || "$PYTHON" -m venv "$PASTURE_VENV"
    local stamp
    stamp=$(sha256sum constraints-pasture.txt | cut -d' ' -f1)
    if [[ ! -f $PASTURE_VENV/.installed || $(cat "$PASTURE_VENV/.installed") != "$stamp" ]]; then
        say "Installing fediverse-pasture into $PASTURE_VENV/"
        "$PASTURE_VENV/bin/python" -m pip install -qq --upgrade pip
        "$PASTURE_VENV/bin/python" -m pip install -qq -c constraints-pasture.txt \
            fediverse-pasture fediverse-pasture-inputs
        echo "$stamp" > "$PASTURE_VENV/.installed"
    fi
}

# serve's port: --port N (or --port=N), else FLASKR_PORT, else 5000.
serve_port() {
    local port=${FLASKR_PORT:-5000}
    while [[ $# -gt 0 ]]; do
        case $1 in
        --port) port=${2:-}; shift $(($# > 1 ? 2 : 1)) ;;
        --port=*) port=${1#--port=}; shift ;;
        *) echo "serve: unknown argument '$1' (usage: ./dev.sh serve [--port N])" >&2
           exit 2 ;;
        esac
    done
    if [[ ! $port =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
        echo "serve: the port must be a number from 1 to 65535, not '$port'" >&2
        exit 2
    fi
    echo $((10#$port))
}

# The production stack on this machine: Debian's nginx on 127.0.0.1:8080 with
# deploy/nginx/flaskr.conf, in front of gunicorn (gunicorn.conf.py, two
# workers, one trusted proxy hop). Its files go to FLASKR_PRODUCTION_RUN; the
# database is FLASKR_DATABASE_URL, or SQLite in the instance folder.
# Debian's nginx, without the service its package starts (the default site
# on every address's port 80): this script runs its own nginx.
install_nginx() {
    command -v nginx >/dev/null && return
    local policy=/usr/sbin/policy-rc.d made_policy=""
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod +x "$policy"
        made_policy=1
    fi
    apt_install nginx
    if [[ -n $made_policy ]]; then as_root rm -f "$policy"; fi
}

PRODUCTION_GUNICORN="" PRODUCTION_TMP=""
stop_production() {
    if [[ -n $PRODUCTION_GUNICORN ]]; then
        kill "$PRODUCTION_GUNICORN" 2>/dev/null || true
        wait "$PRODUCTION_GUNICORN" || true
    fi
    if [[ -n $PRODUCTION_TMP ]]; then rm -rf "$PRODUCTION_TMP"; fi
}

run_production() {
    install_nginx
    local run=${FLASKR_PRODUCTION_RUN:-$PWD/.production}
    local listen=${FLASKR_PROXY_LISTEN:-127.0.0.1:8080}
    export FLASKR_BIND=${FLASKR_BIND:-127.0.0.1:8000}
    export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
    export FLASKR_TRUSTED_PROXY_HOPS=1
    # nginx's workers read the static files and write request bodies in
    # $work. As root they run as www-data, which may not reach into the
    # checkout or $run (say under /root), so then $work is a folder of /tmp.
    local work=$run user=""
    mkdir -p "$run"
    if [[ $(id -u) -eq 0 ]]; then
        work=$(mktemp -d /tmp/flaskr-nginx.XXXXXX)
        user="user www-data;"
    fi
    mkdir -p "$work"/{body,proxy,fastcgi,uwsgi,scgi}
    rm -rf "$work/static" && cp -r src/flaskr/static "$work/static"
    if [[ -n $user ]]; then
        chmod -R a+rX "$work"
        chown -R www-data "$work"/{body,proxy,fastcgi,uwsgi,scgi}
    fi
    sed -e "s|@LISTEN@|$listen|" -e "s|@GUNICORN@|$FLASKR_BIND|" \
        -e "s|@STATIC@|$work/static/|" deploy/nginx/flaskr.conf > "$run/flaskr.conf"
    sed -e "s|@RUN@|$run|g" -e "s|@WORK@|$work|g" -e "s|@USER@|$user|" \
        deploy/nginx/local.conf > "$run/nginx.conf"
    nginx -t -q -p "$run" -c "$run/nginx.conf" -e stderr
    "$VENV/bin/flask" --app flaskr upgrade-db
    [[ $work == "$run" ]] || PRODUCTION_TMP=$work
    "$VENV/bin/gunicorn" -c gunicorn.conf.py 'flaskr:create_app()' &
    PRODUCTION_GUNICORN=$!
    trap stop_production EXIT
    echo "Flaskr through nginx: http://$listen/ (Ctrl-C stops both)"
    nginx -p "$run" -c "$run/nginx.conf" -e stderr
}

case "${1:-}" in
serve)
    shift
    port=$(serve_port "$@")
    ensure_venv
    say "Bringing the database up to date (flask upgrade-db)"
    "$VENV/bin/flask" --app flaskr upgrade-db
    # Links in mails (written to this terminal) point at this server.
    export FLASKR_SITE_URL=${FLASKR_SITE_URL:-http://127.0.0.1:$port}
    say "Starting Flaskr at http://127.0.0.1:$port/ in debug mode (Ctrl-C stops it)"
    exec "$VENV/bin/flask" --app flaskr run --host 127.0.0.1 --port "$port" --debug
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
    # axe-core, from the npm registry at the version package-lock.json names.
    if [[ ! -f tests/browser/node_modules/axe-core/axe.min.js ]]; then
        command -v npm >/dev/null || apt_install npm
        npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
    fi
    shift
    exec "$VENV/bin/pytest" -m browser "$@"
    ;;
lighthouse)
    ensure_venv
    [[ -x /usr/bin/chromium ]] || apt_install chromium
    # Lighthouse, from the npm registry at the version package-lock.json names.
    if [[ ! -f tests/lighthouse/node_modules/lighthouse/cli/index.js ]]; then
        command -v npm >/dev/null || apt_install npm
        npm ci --prefix tests/lighthouse --no-audit --no-fund --loglevel=error
    fi
    shift
    exec "$VENV/bin/pytest" -m lighthouse "$@"
    ;;
contract)
    ensure_venv
    # newman, from the npm registry at the version package-lock.json names.
    if [[ ! -x tests/contract/node_modules/.bin/newman ]]; then
        command -v npm >/dev/null || apt_install npm
        npm ci --prefix tests/contract --no-audit --no-fund --loglevel=error
    fi
    shift
    exec "$VENV/bin/pytest" -m contract "$@"
    ;;
multiserver)
    ensure_venv
    shift
    FLASKR_TEST_DATABASE_URL=${FLASKR_TEST_DATABASE_URL:-$DEFAULT_PG_URL} \
        exec "$VENV/bin/pytest" -m multiserver "$@"
    ;;
federation)
    ensure_venv
    ensure_pasture_venv
    shift
    FLASKR_PASTURE_PYTHON=$PWD/$PASTURE_VENV/bin/python \
        exec "$VENV/bin/pytest" -m federation tests/federation "$@"
    ;;
production)
    ensure_venv
    run_production
    ;;
slow-clients)
    ensure_venv
    install_nginx
    shift
    exec "$VENV/bin/pytest" -m production "$@"
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
lock-pasture)
    rm -rf "$PASTURE_VENV.lock"
    "$PYTHON" -m venv "$PASTURE_VENV.lock"
    "$PASTURE_VENV.lock/bin/pip" install -q fediverse-pasture fediverse-pasture-inputs
    {
        echo "# fediverse-pasture and its dependencies, for ./dev.sh federation only: installed"
        echo "# into $PASTURE_VENV, never into Flaskr's environment. Refresh: ./dev.sh lock-pasture"
        "$PASTURE_VENV.lock/bin/pip" freeze | grep -v '^#'
    } > constraints-pasture.txt
    rm -rf "$PASTURE_VENV.lock"
    ;;
*)
    sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Starts Catalog Health for a first look: migrate, demo data, web + Celery worker + beat.
# With no configuration: SQLite and a file-system Celery transport under var/ (no servers).
# With DATABASE_URL and REDIS_URL (or CELERY_BROKER_URL) set: PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${DEMO_HOST:-127.0.0.1}
PORT=${DEMO_PORT:-8000}
FEEDS_PORT=${DEMO_FEEDS_PORT:-$((PORT + 1))}
# The demo serves its own product feeds (files seed_demo writes under var/demo-feeds/) on
# 127.0.0.1, allow-listed for the demo's fetcher by seed_demo; its product images are a
# placeholder in static/. Request Data Now works offline.
export DEMO_FEEDS_DIR=${DEMO_FEEDS_DIR:-var/demo-feeds}
export DEMO_FEEDS_URL="http://127.0.0.1:$FEEDS_PORT"
export DEMO_SITE_URL="http://$HOST:$PORT"
# links in the demo's emails (printed to the worker's log) point at this server, not :8000
export SITE_URL=${SITE_URL:-$DEMO_SITE_URL}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-catalog_health.settings.local}
export LOG_LEVEL=${LOG_LEVEL:-WARNING}
mkdir -p var/celery/queue var/celery/processed var/log "$DEMO_FEEDS_DIR"

# the addresses without their user and password: a terminal is no place for a secret
hide_credentials() { sed -E 's#://[^/@]*@#://#' <<<"$1"; }
echo "== Database: $(hide_credentials "${DATABASE_URL:-sqlite (var/db.sqlite3)}")"
echo "== Broker:   $(hide_credentials "${CELERY_BROKER_URL:-${REDIS_URL:-filesystem (var/celery)}}")"
$BIN/python manage.py migrate --no-input -v 0
$BIN/python manage.py seed_demo

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$BIN/python -m feeds.demo_server --dir "$DEMO_FEEDS_DIR" --port "$FEEDS_PORT" >var/log/feeds.log 2>&1 &
pids+=($!)
$BIN/celery -A catalog_health worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
pids+=($!)
$BIN/celery -A catalog_health beat --loglevel=INFO >var/log/beat.log 2>&1 &
pids+=($!)

cat <<MSG

Catalog Health is running at http://$HOST:$PORT/
  Logins (password: catalog-demo): owner, admin, advertiser, seller, viewer; staff (Django admin)
  API docs: http://$HOST:$PORT/api/docs/   Health: http://$HOST:$PORT/healthz
  Demo feeds: $DEMO_FEEDS_URL/ ("Supplier feed (password)": user demo-feed, password feed-demo)
  Worker and beat logs: var/log/worker.log, var/log/beat.log. Stop with Ctrl-C.

MSG
$BIN/python manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
wait "${pids[-1]}"

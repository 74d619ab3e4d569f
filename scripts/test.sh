#!/usr/bin/env bash
# The test command: lint, format check, type check, then every test.
# With BIZOSAAS_TEST_DATABASE_URL / BIZOSAAS_TEST_REDIS_URL set, the database and cache tests
# run again on PostgreSQL and Redis; with BIZOSAAS_TEST_STRICT=1 (CI) a skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "==> ruff"
$BIN/ruff check src tests bench migrations
$BIN/ruff format --check src tests bench migrations
echo "==> mypy"
$BIN/mypy
echo "==> pytest"
$BIN/pytest "$@"

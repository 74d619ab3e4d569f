#!/usr/bin/env bash
# Re-resolve requirements.lock: install pyproject's dependencies into a scratch venv and freeze it.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install --quiet --upgrade pip
"$scratch/venv/bin/pip" install --quiet -e ".[dev]"
{
  echo "# Pinned dependencies of BizOSaaS (runtime and dev). Regenerate with: make lock"
  "$scratch/venv/bin/pip" freeze --exclude-editable | grep -v '^-e ' | LC_ALL=C sort -f
} > requirements.lock
echo "requirements.lock: $(grep -vc '^#' requirements.lock) packages"

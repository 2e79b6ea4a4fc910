#!/usr/bin/env bash
# Adds the development tools (ruff, mypy, nox, type stubs) to the .venv made by
# scripts/quickstart.sh; `.ci/run` calls it before the linters.
set -euo pipefail  # pipefail: a failed pip install stops the script
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    echo "error: .venv does not exist; run 'bash scripts/quickstart.sh' first" >&2
    exit 1
fi
printf '\n==> %s\n' "installing the development tools (ruff, mypy, nox, type stubs) into .venv"
.venv/bin/python -m pip install --progress-bar on -e ".[dev]" \
    | { grep -v -E '^(Requirement already satisfied|  )' || true; }
echo "ruff, mypy and nox are in .venv/bin"

#!/usr/bin/env bash
# Sets up .venv with the API package, the reference backends, the conformance suite and what
# the tests need, then runs a producer -> consumer round trip on the files backend.
# Development tools (ruff, mypy, nox) come with scripts/dev-setup.sh.
set -euo pipefail  # pipefail: a failed pip install stops the script
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
step() { printf '\n==> %s\n' "$*"; }

step "[1/4] checking Python (>= 3.10)"
"$python" - <<'PY'
import sys
if sys.version_info < (3, 10):
    sys.exit(f"diaspora-stream needs Python >= 3.10, this is {sys.version.split()[0]}")
print(f"Python {sys.version.split()[0]} at {sys.executable}")
PY

if [ -x .venv/bin/python ]; then
    step "[2/4] using the existing virtual environment .venv"
else
    step "[2/4] creating the virtual environment .venv"
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip

step "[3/4] installing diaspora-stream, the files, kafka and mochi backends, the conformance" \
    "suite and the test tools into .venv (editable; a minute or two the first time)"
.venv/bin/python -m pip install --progress-bar on -e ".[test]" -e reference_backends/files \
    -e reference_backends/kafka -e reference_backends/mochi -e conformance \
    | { grep -v -E '^(Requirement already satisfied|  )' || true; }

step "[4/4] running the demo: 10,000 events through the files backend and back"
.venv/bin/python -m diaspora_stream.demo --root ./diaspora_data --events 10000

step "ready"
cat <<'TEXT'
run the tests:          .venv/bin/python -m pytest
development tools:      bash scripts/dev-setup.sh   (ruff, mypy, nox, type stubs)
TEXT

#!/usr/bin/env bash
# Sets up .venv with the API package, the reference backends and the test tools, then runs a
# producer -> consumer round trip on the files backend.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
"$python" - <<'PY'
import sys
if sys.version_info < (3, 10):
    sys.exit(f"diaspora-stream needs Python >= 3.10, this is {sys.version.split()[0]}")
PY
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,dev]" -e reference_backends/files \
    -e reference_backends/kafka -e reference_backends/mochi -e conformance
.venv/bin/python -m diaspora_stream.demo --root ./diaspora_data --events 10000

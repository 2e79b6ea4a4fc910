"""What every file of this directory reads from the environment, as the reference's tests do
(reference-api.md §9.1): the backend, its options and the topic options."""

from __future__ import annotations

import json
import os
from typing import Any

BACKEND = os.environ.get("DIASPORA_TEST_BACKEND", "simple:libdiaspora-simple-backend.so")
BACKEND_ARGS: dict[str, Any] = json.loads(os.environ.get("DIASPORA_TEST_BACKEND_ARGS", "{}"))
TOPIC_ARGS: dict[str, Any] = json.loads(os.environ.get("DIASPORA_TEST_TOPIC_ARGS", "{}"))

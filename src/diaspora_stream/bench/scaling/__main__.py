"""``python -m diaspora_stream.bench.scaling``."""

import sys

from .cli import main

sys.exit(main())

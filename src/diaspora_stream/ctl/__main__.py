"""``python -m diaspora_stream.ctl`` runs ``diaspora-ctl``."""

import sys

from .main import main

sys.exit(main())

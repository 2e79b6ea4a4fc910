"""Access control: the secret token of a service, created once, readable only by its owner.

``diaspora-mochi start`` creates the token in the data directory (``access-token``, mode 0600)
unless it exists, and writes it into the group file (mode 0600 as well), so whoever may read
the group file may talk to the service and nobody else. Every connection starts with a
``hello`` frame carrying the token; the server answers anything else with one error and closes.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

__all__ = ["TOKEN_FILE", "denied_message", "load_or_create_token", "token_matches"]

TOKEN_FILE = "access-token"


def load_or_create_token(root: Path) -> str:
    """The token of the service whose data directory is ``root`` (created if missing)."""
    path = root / TOKEN_FILE
    root.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked in place: members starting together never see it half
        # written, and the first link wins.
        temporary = root / f".{TOKEN_FILE}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text(encoding="ascii").strip()


def token_matches(expected: str, offered: object) -> bool:
    """Whether a client's ``offered`` token is the service's (compared in constant time)."""
    return isinstance(offered, str) and hmac.compare_digest(
        expected.encode("utf-8"), offered.encode("utf-8", "replace")
    )


def denied_message() -> str:
    """The one line a refused connection gets."""
    return (
        "access denied: this mochi service requires the access token of its group file as the "
        "first frame of every connection ({'op': 'hello', 'token': ...}); use a client given "
        "the service's group file (driver option group_file)"
    )

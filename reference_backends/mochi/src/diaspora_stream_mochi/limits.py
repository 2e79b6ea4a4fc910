"""Limits on the lengths a client announces, checked before anything is allocated for them.

Every length of the protocol a client controls is bounded by a server setting: a frame's
header (``max_frame_header``), a request's payload (``max_request_payload``: size tables and
metadata) and a batch's data (``max_batch_data``, whichever path it takes). A request over a
limit is answered with a :class:`LimitExceededError` message naming the limit and the setting
to raise, and the connection is closed: what the client announced next cannot be trusted.
"""

from __future__ import annotations

from .errors import FrameTooLargeError

__all__ = ["FRAME_SETTINGS", "LimitExceededError", "check_limit", "frame_limit_error"]

#: The server setting that bounds each part of a frame.
FRAME_SETTINGS = {"header": "max_frame_header", "payload": "max_request_payload"}


class LimitExceededError(Exception):
    """A request announces more than a server setting allows (the message names it)."""

    def __init__(self, what: str, size: int, limit: int, setting: str) -> None:
        super().__init__(
            f"{what} of {size} bytes is more than this server accepts ({setting} = {limit} "
            f"bytes); send less per request, or raise {setting} in the service's "
            "configuration file"
        )
        self.setting = setting


def check_limit(what: str, size: int, limit: int, setting: str) -> None:
    """Raise :class:`LimitExceededError` if ``size`` is over ``limit``."""
    if size > limit:
        raise LimitExceededError(what, size, limit, setting)


def frame_limit_error(error: FrameTooLargeError) -> LimitExceededError:
    """The server's answer to a frame refused for its length."""
    return LimitExceededError(
        f"a frame {error.part}", error.size, error.limit, FRAME_SETTINGS[error.part]
    )

"""Raw memory helpers: the address of a buffer, and fresh buffers whose pages are committed
only as they are written."""

from __future__ import annotations

import ctypes
import mmap

__all__ = ["HUGE_PAGE", "buffer_address", "fresh_buffer", "lazy_buffer"]

_PyBUF_SIMPLE = 0


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


def buffer_address(view: memoryview) -> int:
    """The address of the first byte of a contiguous byte view (read-only views too).

    The caller keeps ``view`` alive for as long as the address is used.
    """
    if not view.nbytes:
        return 0
    info = _PyBuffer()
    if _get_buffer(view, ctypes.byref(info), _PyBUF_SIMPLE) != 0:
        raise TypeError("object does not expose a simple contiguous buffer")
    try:
        return int(info.buf or 0)
    finally:
        _release_buffer(ctypes.byref(info))


#: Size of a transparent huge page on the platforms this backend runs on.
HUGE_PAGE = 2 * 1024 * 1024


def fresh_buffer(size: int) -> memoryview:
    """A new writable buffer of ``size`` bytes for data that is kept (memory partitions).

    From ``HUGE_PAGE`` bytes on, it is an anonymous mapping aligned to huge pages and advised
    to use them (``MADV_HUGEPAGE``): filling it takes one page fault per 2 MiB instead of one
    per 4 KiB. Smaller buffers, or platforms without that advice, get a ``bytearray``.
    """
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if size < HUGE_PAGE or advice is None:
        return memoryview(bytearray(size))
    mapping = mmap.mmap(-1, size + HUGE_PAGE)
    try:
        mapping.madvise(advice)
    except OSError:
        pass  # no huge pages here: still a valid buffer
    view = memoryview(mapping)
    skip = -buffer_address(view) % HUGE_PAGE
    return view[skip : skip + size]


def lazy_buffer(size: int) -> memoryview:
    """A new writable buffer of ``size`` bytes (> 0) whose pages are committed only as they are
    written: an anonymous mapping, so data received into it costs memory as it arrives, and a
    size announced but never sent costs none."""
    return memoryview(mmap.mmap(-1, size))

"""On-node zero-copy data path: addresses of client buffers and ``process_vm_readv``.

The producer sends the addresses and lengths of its data segments; a server on the same node
reads them straight out of the producer's memory with ``process_vm_readv`` (cross-memory
attach, as Mercury's shared-memory transport does RDMA on one node), so data never goes through
a socket. :func:`node_token` tells whether client and server share a node (and a PID namespace).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import socket
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["fresh_buffer", "buffer_address", "node_token", "read_remote", "vm_read_available"]

_PyBUF_SIMPLE = 0
#: iovec entries per system call (the kernel's IOV_MAX).
_IOV_MAX = 1024


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


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6", use_errno=True)
        libc.process_vm_readv.argtypes = [
            ctypes.c_int,
            ctypes.POINTER(_IoVec),
            ctypes.c_ulong,
            ctypes.POINTER(_IoVec),
            ctypes.c_ulong,
            ctypes.c_ulong,
        ]
        libc.process_vm_readv.restype = ctypes.c_ssize_t
    except (OSError, AttributeError):
        return None
    return libc


def vm_read_available() -> bool:
    """Whether this platform has ``process_vm_readv`` (Linux)."""
    return _libc() is not None


@lru_cache(maxsize=1)
def node_token() -> str:
    """Identifies this node and boot (and PID namespace): equal tokens mean the same node."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            boot = file.read().strip()
    except OSError:
        boot = "no-boot-id"
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "no-pid-ns"
    return f"{socket.gethostname()}/{boot}/{namespace}"


def read_remote(pid: int, segments: Sequence[tuple[int, int]], destination: memoryview) -> None:
    """Copy the remote ``(address, length)`` segments of process ``pid`` into ``destination``.

    Raises :class:`OSError` (``EPERM``, ``ESRCH``, ``EFAULT``...) when the memory cannot be read.
    """
    libc = _libc()
    if libc is None:
        raise OSError("process_vm_readv is not available on this platform")
    total = destination.nbytes
    if sum(length for _, length in segments) != total:
        raise ValueError("remote segments and destination differ in size")
    if not total:
        return
    base = ctypes.addressof(ctypes.c_char.from_buffer(destination))
    pending = [segment for segment in segments if segment[1]]
    done = 0
    while pending:
        group = pending[:_IOV_MAX]
        remote = (_IoVec * len(group))(*[_IoVec(address, length) for address, length in group])
        local = _IoVec(base + done, total - done)
        result = libc.process_vm_readv(pid, ctypes.byref(local), 1, remote, len(group), 0)
        if result < 0:
            error = ctypes.get_errno()
            raise OSError(error, f"process_vm_readv from pid {pid}: {os.strerror(error)}")
        if result == 0:
            raise OSError(f"process_vm_readv from pid {pid} copied nothing")
        done += result
        # Drop the segments copied in full; a short read leaves the rest of one segment.
        while result and pending:
            address, length = pending[0]
            if result >= length:
                result -= length
                pending.pop(0)
            else:
                pending[0] = (address + result, length - result)
                result = 0


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

"""Frames through a FrameReader: buffered small frames, large payloads and headers, errors."""

from __future__ import annotations

import os
import socket
import struct
import threading
from pathlib import Path

import pytest

from diaspora_stream_mochi.errors import FrameTooLargeError, ProtocolError
from diaspora_stream_mochi.protocol import FileRange, FrameReader, receive_frame, send_frame


def test_frames_of_every_size_arrive_whole_and_in_order() -> None:
    left, right = socket.socketpair()
    big = bytes(range(256)) * 1024  # 256 KiB: larger than the reader's buffer
    frames = [
        ({"i": 0}, [b""]),
        ({"i": 1}, [b"ab", memoryview(b"cd")]),
        ({"i": 2, "pad": "x" * 100_000}, [b"after a large header"]),
        ({"i": 3}, [big]),
        ({"i": 4}, [b"z" * 10]),
    ]

    def send() -> None:
        for header, payload in frames:
            send_frame(left, header, payload)
        left.close()

    sender = threading.Thread(target=send)
    sender.start()
    reader = FrameReader(right, capacity=4096)
    received = [reader.frame() for _ in frames]
    sender.join()
    assert [header["i"] for header, _ in received] == [0, 1, 2, 3, 4]
    assert [bytes(payload) for _, payload in received] == [
        b"",
        b"abcd",
        b"after a large header",
        big,
        b"z" * 10,
    ]
    with pytest.raises(EOFError):
        reader.header()


def test_headers_and_payloads_longer_than_what_is_allocated_up_front_arrive_whole() -> None:
    """Beyond the first MiB a header or payload is received into a buffer that grows as the
    bytes arrive: what comes out is still exactly what was sent."""
    left, right = socket.socketpair()
    payload = os.urandom(3 * 1024 * 1024 + 5)
    header = {"pad": "y" * (2_500_000)}

    def send() -> None:
        send_frame(left, header, [payload[:7], payload[7:]])
        send_frame(left, {"op": "after"}, [b"!"])

    sender = threading.Thread(target=send)
    sender.start()
    reader = FrameReader(right)
    reader.max_header = 4 * 1024 * 1024
    received = reader.frame()
    sender.join()
    assert received[0] == header and bytes(received[1]) == payload
    assert reader.frame() == ({"op": "after"}, memoryview(b"!"))
    left.close()


def test_a_payload_read_in_pieces_and_an_unread_rest_dropped() -> None:
    left, right = socket.socketpair()
    send_frame(left, {"op": "a"}, [b"0123456789"])
    send_frame(left, {"op": "b"}, [b"next"])
    reader = FrameReader(right)
    assert reader.header() == {"op": "a"} and reader.pending == 10
    piece = memoryview(bytearray(4))
    reader.payload_into(piece)
    assert bytes(piece) == b"0123" and reader.pending == 6
    with pytest.raises(ProtocolError, match="7 payload bytes wanted, the frame has 6 left"):
        reader.payload_into(memoryview(bytearray(7)))
    assert reader.frame()[0] == {"op": "b"}  # the rest of "a" was skipped
    send_frame(left, {"op": "large"}, [bytes(100_000)])
    send_frame(left, {"op": "c"}, [b"!"])
    small = FrameReader(right, capacity=4096)
    assert small.header() == {"op": "large"}
    assert small.frame() == ({"op": "c"}, memoryview(b"!"))  # 100 kB dropped through 4 KiB
    left.close()


def test_malformed_frames_raise_protocol_errors() -> None:
    left, right = socket.socketpair()
    left.sendall(struct.pack("!IQ", 5, 0) + b"nope!")
    left.sendall(struct.pack("!IQ", 2, 0) + b"[]")
    left.sendall(struct.pack("!IQ", 1 << 30, 0))
    reader = FrameReader(right)
    with pytest.raises(ProtocolError, match="not JSON"):
        reader.header()
    with pytest.raises(ProtocolError, match="must be a JSON object"):
        reader.header()
    with pytest.raises(FrameTooLargeError, match="frame header of 1073741824 bytes announced"):
        reader.header()
    left.close()


def test_unbuffered_receive_frame_reads_one_frame_only() -> None:
    left, right = socket.socketpair()
    send_frame(left, {"n": 1}, [b"x"])
    send_frame(left, {"n": 2}, [b"y"])
    assert receive_frame(right)[0] == {"n": 1}
    header, payload = FrameReader(right).frame()  # nothing of frame 2 was consumed
    assert header == {"n": 2} and bytes(payload) == b"y"
    left.close()


def test_file_ranges_in_a_payload_are_sent_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "chunk"
    content = bytes(range(256)) * 8192  # 2 MiB: more than one sendfile piece
    path.write_bytes(content)
    left, right = socket.socketpair()
    fd = os.open(path, os.O_RDONLY)
    try:
        payload = [
            b"head:",
            FileRange(fd, 3, 5),
            FileRange(fd, 0, 0),
            FileRange(fd, 1000, len(content) - 1000),
            memoryview(b":tail"),
        ]
        sender = threading.Thread(target=send_frame, args=(left, {"op": "x"}, payload))
        sender.start()
        header, received = FrameReader(right).frame()
        sender.join()
        assert header == {"op": "x"}
        assert bytes(received) == b"head:" + content[3:8] + content[1000:] + b":tail"
    finally:
        os.close(fd)
        left.close()
        right.close()


def test_a_file_range_past_the_end_of_its_file_fails_the_send(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(b"0123456789")
    left, right = socket.socketpair()
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(OSError, match="file ends at 10"):
            send_frame(left, {"op": "x"}, [FileRange(fd, 4, 20)])
    finally:
        os.close(fd)
        left.close()
        right.close()

"""The HTTP response parser, fed the way a socket delivers bytes: in arbitrary pieces."""

from __future__ import annotations

import pytest

from dokiem.agent.probes.wire import ResponseParser, parse_head


def feed_in_pieces(raw: bytes, piece: int, keep_body: bool = True) -> ResponseParser:
    parser = ResponseParser(keep_body)
    for i in range(0, len(raw), piece):
        parser.feed(memoryview(raw[i : i + piece]))
    return parser


LENGTH = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\n0123456789"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nX-T: 1\r\n\r\n"


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 64, 4096])
def test_content_length_body_in_any_pieces(piece: int) -> None:
    reader = feed_in_pieces(LENGTH, piece)
    assert reader.head is not None and reader.head.status == 200
    assert reader.done and reader.body == b"0123456789" and reader.body_bytes == 10
    assert reader.reusable


@pytest.mark.parametrize("piece", [1, 3, 5, 11, 4096])
def test_chunked_body_in_any_pieces(piece: int) -> None:
    reader = feed_in_pieces(CHUNKED, piece)
    assert reader.done and reader.body == b"Wikipedia " and reader.body_bytes == 10


def test_body_until_close() -> None:
    reader = feed_in_pieces(b"HTTP/1.0 200 OK\r\n\r\nabc", 2)
    assert not reader.done
    reader.eof()
    assert reader.error is None
    assert reader.done and reader.body_bytes == 3 and not reader.reusable


def test_eof_in_the_middle_of_a_body_is_closed_mid_stream() -> None:
    reader = feed_in_pieces(LENGTH[:-3], 4096)
    reader.eof()
    assert reader.error is not None and reader.error.code == "closed_mid_stream"


def test_not_http_is_a_protocol_error() -> None:
    reader = feed_in_pieces(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", 4096)
    assert reader.head is None
    assert reader.error is not None and reader.error.code == "protocol_error"


def test_bad_chunk_size_is_a_protocol_error() -> None:
    reader = feed_in_pieces(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 4096)
    assert reader.error is not None and reader.error.code == "protocol_error"


def test_head_parsing_lowercases_names() -> None:
    head = parse_head(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30")
    assert head is not None and head.status == 503 and head.header("retry-after") == "30"
    assert parse_head(b"garbage") is None


def test_body_remaining_counts_down_a_content_length_body() -> None:
    parser = feed_in_pieces(LENGTH[:-4], 4096, keep_body=False)
    assert parser.body_remaining == 4
    parser.feed(memoryview(b"6789"))
    assert parser.done and parser.body_remaining is None and parser.body is None

"""Bodies read with a limit: refused by their Content-Length before a byte is read, or as soon as a chunked body
passes the limit; JSON nested too deeply is malformed, not a crash."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from exhibit_crm.errors import DomainError, InvalidInput
from exhibit_crm.web.bodies import parse_json, read_raw


def _request(chunks: list[bytes], headers: list[tuple[bytes, bytes]] = ()) -> tuple[Request, list[int]]:
    received = []

    async def receive():
        index = len(received)
        received.append(index)
        return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": list(headers), "query_string": b""}
    return Request(scope, receive), received


def test_a_body_declared_too_large_is_refused_before_it_is_read():
    request, received = _request([b"x" * 10], [(b"content-length", b"101")])
    with pytest.raises(DomainError) as refused:
        asyncio.run(read_raw(request, 100))
    assert (refused.value.status, refused.value.code) == (413, "too_large")
    assert received == []


def test_a_chunked_body_is_refused_once_it_passes_the_limit():
    request, received = _request([b"x" * 60] * 10)
    with pytest.raises(DomainError) as refused:
        asyncio.run(read_raw(request, 100))
    assert refused.value.status == 413
    assert len(received) == 2


def test_a_body_within_the_limit_is_read_and_kept():
    request, _ = _request([b'{"a":', b"1}"], [(b"content-length", b"7")])
    assert asyncio.run(read_raw(request, 7)) == b'{"a":1}'
    assert asyncio.run(request.body()) == b'{"a":1}'


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                                 b"{", b"\xff"])
def test_json_nested_too_deeply_or_not_json_is_malformed(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_json(raw)
    assert refused.value.code == "malformed_json"


def test_deep_json_holding_a_control_character_is_malformed_not_a_crash():
    depth = 990
    with pytest.raises(InvalidInput) as refused:
        parse_json(b"[" * depth + b'"\\u0000"' + b"]" * depth)
    assert refused.value.code in ("malformed_json", "control_characters")

"""What the scanner API and the lead API share to take scans from devices and phones: bodies read with a size limit,
offline batches validated as a whole or item by item, error entries for the items that are not valid, and batches
recorded chunk by chunk as their signature checks finish. See docs/gates.md ("Limits")."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from exhibit_crm.errors import InvalidInput
from exhibit_crm.group_commit import run_in_turn
from exhibit_crm.web import openapi
from exhibit_crm.web.bodies import parse_json, read_raw
from exhibit_crm.web.inputs import check_text, looks_like_control_characters

from .codes import BatchChecks

MAX_BATCH = 10_000
# A batch of 10,000 gate scans is about 2 MB and of booth scans with long notes a few more: a body over the limit is
# refused (413) before it is read. A body of that size holding millions of tiny values would still take a worker's
# memory to parse (900 MB for 16 MiB of empty objects), so a batch is also refused (422) before it is parsed when it
# holds more values than this: 100 a scan (a gate scan has 7, a booth scan a few more for its answers).
MAX_BATCH_BODY = 16 * 1024 * 1024
MAX_BATCH_VALUES = MAX_BATCH * 100
MAX_ITEM_BODY = 64 * 1024  # one scan or booth scan
# a device clock this far ahead of the server's is wrong, and a scan "from the future" would dodge the rules
MAX_CLOCK_AHEAD = timedelta(minutes=5)


async def read_body(request: Request) -> object:
    """One scan's JSON (scanner and lead APIs alike), at most MAX_ITEM_BODY bytes; 422 malformed_json when it is not
    JSON."""
    return parse_json(await read_raw(request, MAX_ITEM_BODY))


def not_ahead(scanned_at: datetime | None, latest: datetime, field: str) -> None:
    """Refuse a scan time later than `latest` (the server's clock plus MAX_CLOCK_AHEAD)."""
    if scanned_at is not None and scanned_at > latest:
        raise InvalidInput("invalid", f"{field}: later than the server's clock; set the device's clock", field=field)


def item_error(data: object, field: str, message: str) -> dict:
    """The entry that takes the place of a batch item that was not valid (scanner and lead APIs alike); `data` is the
    item as sent or as validated."""
    scan_id = data.get("scan_id") if isinstance(data, dict) else getattr(data, "scan_id", None)
    return {"scan_id": scan_id if isinstance(scan_id, str) else None,
            "error": {"code": "invalid", "message": message, "field": field}}


def _few_enough_values(raw: bytes, key: str) -> None:
    """Refuse, before parsing, a batch of more values than MAX_BATCH_VALUES: JSON separates values by commas, so one
    count over the bytes bounds what parsing would build (a flood of tiny items would take a worker's memory)."""
    # n values take at least 2n - 1 bytes: a smaller body needs no count (nor does a batch of gate scans, mostly)
    if len(raw) >= 2 * MAX_BATCH_VALUES - 1 and raw.count(b",") >= MAX_BATCH_VALUES:
        raise InvalidInput("invalid", f"{key}: at most {MAX_BATCH} in one batch, of at most {MAX_BATCH_VALUES} "
                           "values in all", field=key)


async def read_batch(request: Request, schema: type[BaseModel], key: str, what: str) -> tuple[list, bool]:
    """An offline batch's items under `key` and whether they are all valid (scanner and lead APIs alike): then they
    are `schema`'s items, else the items as sent, to be validated one by one.

    A batch is validated as a whole straight from its JSON (14 ms for 10,000 scans, against 29 ms to parse it and
    validate item by item); only a batch that fails that is taken apart item by item, to name each bad item."""
    raw = await read_raw(request, MAX_BATCH_BODY)
    _few_enough_values(raw, key)
    try:
        items = getattr(schema.model_validate_json(raw), key)
        if looks_like_control_characters(raw):  # rare: one search over the bytes decides
            check_text([item.model_dump() for item in items], key)
        return items, True
    except ValidationError:
        body = parse_json(raw)
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidInput("invalid", f"{key}: {what}", field=key)
    if len(items) > MAX_BATCH:
        raise InvalidInput("invalid", f"{key}: at most {MAX_BATCH} in one batch", field=key)
    return items, False


def code_of(data: object) -> object:
    """The code of a batch item as sent, if it has one."""
    return data.get("code") if isinstance(data, dict) else None


async def record_batch(request: Request, checks: BatchChecks, fn, entries: list, key: str, /, **kwargs) -> list:
    """Record an offline batch (scanner and lead APIs alike) in one transaction in the writers' turn: `entries`
    holds, for each item as sent, what `fn` records (as `key`) or None for an item refused before. Chunk by chunk,
    each once its signature checks are done, so the checks of the next chunks run meanwhile."""

    def chunk_by_chunk(session) -> list:
        results = []
        for chunk, start in enumerate(range(0, len(entries), checks.chunk_size)):
            checks.wait(chunk)
            part = [entry for entry in entries[start:start + checks.chunk_size] if entry is not None]
            if part:
                results += fn(session, **{key: part}, **kwargs)
        return results

    return await run_in_threadpool(run_in_turn, request.app.state.engine, chunk_by_chunk)


def batch_route(path: str, endpoint, *, what: str, request: type[BaseModel], response: type[BaseModel],
                kinds: tuple[str, ...], tag: str, name: str) -> Route:
    """The POST of an offline batch, declared with the promise every batch upload makes."""
    return openapi.route(path, endpoint, openapi.Operation(
        "POST", f"Upload {what} kept while offline (at most {MAX_BATCH:,}); one result per scan in the same order. "
        "Sending a batch again returns the same results and records nothing twice.", request=request,
        response=response, kinds=kinds, tag=tag, hot=True), name=name)

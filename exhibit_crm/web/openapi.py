"""The API's own description: every /api/v1 route carries its declaration (method, summary, schemas, roles) and
openapi.json is generated from the routes of the running app, so the document cannot drift from what is served."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.convertors import FloatConvertor, IntegerConvertor
from starlette.routing import BaseRoute, Mount, Route

from . import guard

REF = "#/components/schemas/{model}"
STAFF = ("staff",)
KIND_LABELS = {"staff": "staff user", "exhibitor_user": "exhibitor user", "device": "gate device"}


class ErrorBody(BaseModel):
    """What every refusal looks like; scripts branch on `error`, people read `message`."""

    error: str = Field(description="Stable machine code, e.g. unauthorized, forbidden, not_found, duplicate, "
                                   "in_use, invalid, malformed_json, control_characters, too_large, "
                                   "internal_error.")
    message: str = Field(description="What went wrong, for people.")
    field: str | None = Field(default=None, description="The input field at fault, when there is one.")


ERRORS = {
    401: "No bearer token, or an unknown or revoked one (`unauthorized`).",
    403: "The token's owner may not do this (`forbidden`).",
    404: "No such record, or an id in the path that is not one (`not_found`).",
    409: "A value that must be unique is taken (`duplicate`, `field` names it) or the record is still in use "
         "(`in_use`).",
    413: "The body is larger than this operation's limit (`too_large`); nothing of it was read or recorded.",
    422: "The body is not JSON or is nested too deeply (`malformed_json`), a field or query parameter is not valid "
         "(`invalid`, `field` names it) or holds control characters such as NUL (`control_characters`).",
    500: "The server failed (`internal_error`); nothing was recorded. Try again later.",
}


@dataclass(frozen=True, eq=False)
class Operation:
    """One method on one path, as the document declares it and the guard enforces it."""

    method: str
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False  # the response is a JSON array of `response`
    status: int = 200
    roles: tuple[str, ...] = ()  # staff roles allowed; empty means any role of the allowed kinds
    kinds: tuple[str, ...] = STAFF  # "staff", "exhibitor_user", "device"
    public: bool = False  # no token needed
    conflicts: bool = False  # may answer 409
    tag: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)  # path parameter -> description
    query: Mapping[str, dict] = field(default_factory=dict)  # query parameter -> its schema (with a description)
    files: tuple[str, ...] = ()  # media types the answer may also have: a file to download instead of JSON
    hot: bool = False  # called thousands of times a second by devices: bearer calls take web/hot_path.py's way


def route(path: str, endpoint, operation: Operation, *, name: str) -> Route:
    """A Route guarded by the operation's kinds and roles, carrying the operation for the document."""
    if not operation.public:
        # Exhibitor users and devices call the API with tokens only: their pages have routes of their own, so a
        # session cookie sent along by a cross-site link (a lead download resets "new since my last download") does
        # nothing here. Staff may use the API from a signed-in browser, writes with the CSRF header.
        tokens_only = "staff" not in operation.kinds
        endpoint = guard.api(*operation.roles, kinds=operation.kinds, tokens_only=tokens_only)(endpoint)
    declared = Route(path, endpoint, methods=[operation.method], name=name)
    declared.operation = operation  # type: ignore[attr-defined]
    return declared


def api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> list[tuple[str, Route]]:
    """Every Route in an app with its full path, looking inside mounts."""
    found = []
    for item in routes:
        if isinstance(item, Mount):
            found += api_routes(item.routes, prefix + item.path)
        elif isinstance(item, Route):
            found.append((prefix + item.path, item))
    return found


def openapi_path(path: str) -> str:
    """Starlette's `/x/{id:int}` as OpenAPI's `/x/{id}`."""
    return re.sub(r"{(\w+):\w+}", r"{\1}", path)


def _param_schema(convertor) -> dict:
    if isinstance(convertor, IntegerConvertor):
        return {"type": "integer", "minimum": 0}
    if isinstance(convertor, FloatConvertor):
        return {"type": "number"}
    return {"type": "string"}


def _who(op: Operation) -> str:
    if op.public:
        return "Public: no token needed."
    kinds = " or ".join(KIND_LABELS.get(kind, kind) for kind in op.kinds)
    roles = f" with role {' or '.join(op.roles)}" if op.roles else (" (any role)" if op.kinds == STAFF else "")
    return f"Needs the bearer token of a {kinds}{roles}."


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _operation(name: str, route: Route, op: Operation, refs: dict) -> dict:
    body: dict = {"operationId": name, "summary": op.summary, "description": _who(op),
                  "tags": [op.tag] if op.tag else [], "x-roles": list(op.roles), "x-kinds": list(op.kinds)}
    body["parameters"] = [
        {"name": param, "in": "path", "required": True, "description": op.parameters.get(param, param),
         "schema": _param_schema(convertor)} for param, convertor in route.param_convertors.items()]
    body["parameters"] += [{"name": param, "in": "query", "required": False, "description": schema["description"],
                            "schema": {k: v for k, v in schema.items() if k != "description"}}
                           for param, schema in op.query.items()]
    if op.request is not None:
        body["requestBody"] = {"required": True, "content": _json(refs[op.request, "validation"])}
    answer: dict = {"description": {201: "Created.", 204: "Done; no content."}.get(op.status, "OK.")}
    if op.response is not None:
        schema = refs[op.response, "serialization"]
        answer["content"] = _json({"type": "array", "items": schema} if op.many else schema)
    elif op.status != 204:
        answer["content"] = _json({"type": "object"})
    for media_type in op.files:
        answer["content"][media_type] = {"schema": {"type": "string", "format": "binary"}}
    responses = {str(op.status): answer}
    errors = ([] if op.public else [401, 403]) + ([404] if route.param_convertors else [])
    # a query string with a control character is refused on every path (web/inputs.py); every path may fail
    errors += ([409] if op.conflicts else []) + ([413] if op.request is not None else []) + [422, 500]
    for status in errors:
        responses[str(status)] = {"description": ERRORS[status], "content": _json(refs[ErrorBody, "serialization"])}
    body["responses"] = responses
    body["security"] = [] if op.public else [{"bearer": []}]
    return body


def document(routes: Iterable[BaseRoute], *, title: str, version: str, description: str = "") -> dict:
    """The OpenAPI 3.1 document for every declared route among `routes`."""
    declared = [(path, r) for path, r in api_routes(routes) if getattr(r, "operation", None) is not None]
    models = {(ErrorBody, "serialization")}
    for _, r in declared:
        if r.operation.request is not None:
            models.add((r.operation.request, "validation"))
        if r.operation.response is not None:
            models.add((r.operation.response, "serialization"))
    ordered = sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, schemas = models_json_schema(ordered, ref_template=REF)
    paths: dict = {}
    for path, r in declared:
        paths.setdefault(openapi_path(path), {})[r.operation.method.lower()] = _operation(r.name, r, r.operation,
                                                                                          refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "A token from `exhibit-crm token create --user NAME` (staff), or a gate device's "
                               "token from POST /api/v1/gates/{gate_id}/devices."}},
        },
    }

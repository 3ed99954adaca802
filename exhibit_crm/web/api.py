"""The JSON API under /api/v1: what the admin pages set up (series, editions, days, zones, gates, badge types,
questions, product categories, gate devices), for organisers' scripts holding a bearer token."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__, auth, editions
from ..errors import NotFound
from ..models.types import MAX_ID
from . import openapi
from .guard import acting_user, principal, read_json, read_service, run_service
from .openapi import Operation

WRITERS = ("admin",)
ALL_KINDS = ("staff", "exhibitor_user", "device")

# kind -> (URL segment, one, many)
NAMES = {
    "series": ("series", "series", "series"),
    "edition": ("editions", "edition", "editions"),
    "day": ("days", "show day", "show days"),
    "zone": ("zones", "zone", "zones"),
    "gate": ("gates", "gate", "gates"),
    "badge_type": ("badge-types", "badge type", "badge types"),
    "question": ("questions", "registration question", "registration questions"),
    "product_category": ("product-categories", "product category", "product categories"),
}


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _annotation(info: FieldInfo) -> object:
    """A field's type with its constraints and schema markers, as a new model's field takes it."""
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _public_model(kind: editions.Kind) -> type[BaseModel]:
    """What the API returns for a kind: every column of its table, id and parent first."""
    columns = kind.model.model_fields
    names = ["id", *([kind.parent] if kind.parent else [])]
    names += [name for name in columns if name not in names]
    fields = {name: (int if name == "id" else _annotation(columns[name]), ...) for name in names}
    return create_model(f"{kind.model.__name__}Public", __config__=ConfigDict(from_attributes=True),
                        __doc__=f"{_a(NAMES[kind.name][1]).capitalize()} as the API returns it.", **fields)


def _create_model(kind: editions.Kind) -> type[BaseModel]:
    """What POST accepts: the kind's input schema with its validators, refusing unknown fields."""
    namespace = {"model_config": {**kind.schema.model_config, "extra": "forbid"}, "__module__": __name__,
                 "__doc__": f"A new {NAMES[kind.name][1]}."}
    return type(f"{kind.model.__name__}Create", (kind.schema,), namespace)


def _drop_defaults(schema: dict) -> None:
    # Every PATCH field is optional, but an absent field keeps its value rather than taking a default.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


def _update_model(kind: editions.Kind) -> type[BaseModel]:
    """What PATCH accepts: any of the input fields with their constraints; the service checks the whole record."""
    fields = {}
    for name, info in kind.schema.model_fields.items():
        fields[name] = (_annotation(info), None)
    return create_model(f"{kind.model.__name__}Update", __doc__=f"Fields of {_a(NAMES[kind.name][1])} to change.",
                        __config__=ConfigDict(extra="forbid", json_schema_extra=_drop_defaults), **fields)


PUBLIC = {name: _public_model(kind) for name, kind in editions.KINDS.items()}
CREATE = {name: _create_model(kind) for name, kind in editions.KINDS.items()}
UPDATE = {name: _update_model(kind) for name, kind in editions.KINDS.items()}


class Me(BaseModel):
    """Whoever the token belongs to."""

    model_config = ConfigDict(from_attributes=True)
    kind: str = Field(description="staff, exhibitor_user or device")
    id: int
    name: str
    role: str | None = Field(description="admin, marketing or desk for staff; null otherwise")
    exhibitor_id: int | None = None
    gate_id: int | None = None


def _many(kind: str) -> type:
    return list[PUBLIC[kind]]


ZoneWithGates = create_model("ZoneWithGates", __base__=PUBLIC["zone"], __doc__="A zone and the gates into it.",
                             gates=(_many("gate"), ...))
EditionOverview = create_model(
    "EditionOverview", __config__=ConfigDict(from_attributes=True),
    __doc__="An edition with everything set up under it.",
    edition=(PUBLIC["edition"], ...), series=(PUBLIC["series"], ...), days=(_many("day"), ...),
    zones=(list[ZoneWithGates], ...), badge_types=(_many("badge_type"), ...), questions=(_many("question"), ...),
    product_categories=(_many("product_category"), ...))


class DeviceCreate(BaseModel):
    """A new gate device (a handheld scanner or a turnstile)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)


class DeviceCreated(BaseModel):
    """A gate device and its bearer token; the token is shown this once and stored only as a hash."""

    id: int
    gate_id: int
    name: str
    token: str


def _id(request: Request, param: str | None) -> int | None:
    if param is None:
        return None
    value = request.path_params[param]
    if value > MAX_ID:
        raise NotFound("record", value)
    return value


def _answer(model: type[BaseModel], data, status: int = 200) -> JSONResponse:
    if isinstance(data, list):
        return JSONResponse([model.model_validate(row).model_dump(mode="json") for row in data], status_code=status)
    return JSONResponse(model.model_validate(data).model_dump(mode="json"), status_code=status)


def _handlers(name: str) -> dict:
    """The five endpoints of one kind, each a call to one generic set-up service."""
    kind, public = editions.KINDS[name], PUBLIC[name]

    async def list_all(request: Request) -> Response:
        rows = await read_service(request, editions.list_of, kind=name, parent_id=_id(request, kind.parent))
        return _answer(public, rows)

    async def create(request: Request) -> Response:
        body = await read_json(request, CREATE[name])
        row = await run_service(request, editions.create, kind=name, data=body.model_dump(),
                                parent_id=_id(request, kind.parent), actor=await acting_user(request))
        return _answer(public, row, 201)

    async def read(request: Request) -> Response:
        return _answer(public, await read_service(request, editions.get, kind=name, id=_id(request, "id")))

    async def update(request: Request) -> Response:
        body = await read_json(request, UPDATE[name])
        row = await run_service(request, editions.update, kind=name, id=_id(request, "id"),
                                data=body.model_dump(exclude_unset=True), actor=await acting_user(request))
        return _answer(public, row)

    async def delete(request: Request) -> Response:
        await run_service(request, editions.delete, kind=name, id=_id(request, "id"), actor=await acting_user(request))
        return Response(status_code=204)

    return {"list": list_all, "create": create, "get": read, "update": update, "delete": delete}


def _kind_routes(name: str) -> list[Route]:
    """The collection and item routes of one kind, with their declarations for the OpenAPI document."""
    kind, public = editions.KINDS[name], PUBLIC[name]
    segment, one, many = NAMES[name]
    item, collection = f"/api/v1/{segment}/{{id:int}}", f"/api/v1/{segment}"
    params, of, in_ = {"id": f"{one} id"}, "", ""
    if kind.parent:
        parent = NAMES[editions.PARENT_KIND[kind.parent]]
        collection = f"/api/v1/{parent[0]}/{{{kind.parent}:int}}/{segment}"
        params[kind.parent] = f"{parent[1]} id"
        of, in_ = f" of {_a(parent[1])}", f" in {_a(parent[1])}"
    write = {"roles": WRITERS, "conflicts": True}
    table = [  # action, path, operation
        ("list", collection, Operation("GET", f"List the {many}{of}.", response=public, many=True)),
        ("create", collection, Operation("POST", f"Create {_a(one)}{in_}.", request=CREATE[name], response=public,
                                         status=201, **write)),
        ("get", item, Operation("GET", f"Get one {one}.", response=public)),
        ("update", item, Operation("PATCH", f"Change some fields of {_a(one)}; the others keep their values.",
                                   request=UPDATE[name], response=public, **write)),
        ("delete", item, Operation("DELETE", f"Delete {_a(one)}; refused with 409 while anything still depends on "
                                   "it.", status=204, **write)),
    ]
    handlers = _handlers(name)
    return [openapi.route(path, handlers[action], replace(op, tag=many, parameters=params), name=f"api_{name}_{action}")
            for action, path, op in table]


async def me(request: Request) -> Response:
    return _answer(Me, await principal(request))


async def overview(request: Request) -> Response:
    found = await read_service(request, editions.edition_overview, edition_id=_id(request, "id"))
    zones = [{**PUBLIC["zone"].model_validate(z["zone"]).model_dump(), "gates": z["gates"]} for z in found["zones"]]
    return _answer(EditionOverview, {**found, "zones": zones})


async def create_device(request: Request) -> Response:
    body = await read_json(request, DeviceCreate)
    token, device = await run_service(request, auth.create_device, gate_id=_id(request, "gate_id"), name=body.name,
                                      actor=await acting_user(request))
    return _answer(DeviceCreated, {"id": device.id, "gate_id": device.gate_id, "name": device.name, "token": token},
                   201)


async def openapi_json(request: Request) -> Response:
    # The document depends only on the app's routes, so one per app is enough.
    doc = getattr(request.app.state, "openapi_document", None)
    if doc is None:
        doc = openapi.document(request.app.routes, title="exhibit-crm API", version=__version__,
                               description="Set up series, editions and everything under them. Send "
                               "`Authorization: Bearer TOKEN`; reads are open to every staff role, writes to admins.")
        request.app.state.openapi_document = doc
    return JSONResponse(doc)


routes = [
    openapi.route("/api/v1/openapi.json", openapi_json, Operation("GET", "This document: the API in OpenAPI 3.1.",
                                                                  public=True, tag="meta"), name="api_openapi"),
    openapi.route("/api/v1/me", me, Operation("GET", "Who the bearer token belongs to.", response=Me,
                                              kinds=ALL_KINDS, tag="meta"), name="api_me"),
    *(route for name in editions.KINDS for route in _kind_routes(name)),
    openapi.route("/api/v1/editions/{id:int}/overview", overview,
                  Operation("GET", "An edition with its days, zones and their gates, badge types, questions and "
                            "product categories.", response=EditionOverview, tag="editions",
                            parameters={"id": "edition id"}), name="api_edition_overview"),
    openapi.route("/api/v1/gates/{gate_id:int}/devices", create_device,
                  Operation("POST", "Register a scanning device at a gate; the answer holds its bearer token, "
                            "shown only this once.", request=DeviceCreate, response=DeviceCreated, status=201,
                            roles=WRITERS, tag="gates", parameters={"gate_id": "gate id"}), name="api_device_create"),
]

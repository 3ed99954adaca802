"""Domain errors: each carries a machine code that tests and API clients rely on."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError


class DomainError(Exception):
    """A request the domain refuses; `code` is stable, `message` is for people."""

    status = 400

    def __init__(self, code: str, message: str = "", *, field: str | None = None, status: int | None = None):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.field = field
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class NotFound(DomainError):
    status = 404

    def __init__(self, what: str, ident: object = None):
        super().__init__("not_found", f"{what} {ident} not found" if ident is not None else f"{what} not found")


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = "forbidden"):
        super().__init__("forbidden", message)


class Unauthorized(DomainError):
    status = 401

    def __init__(self, message: str = "authentication required"):
        super().__init__("unauthorized", message)


class InvalidInput(DomainError):
    status = 422


def validate_input(schema: type[BaseModel], data: dict) -> BaseModel:
    """Validate input, raising InvalidInput that names the first bad field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in first["loc"])
        if not field:  # a rule over several fields names its field first: "closes_at must be …"
            head = message.split(" ")[0].rstrip(":")
            field = head if head in schema.model_fields else "body"
        raise InvalidInput("invalid", f"{field}: {message}", field=field) from None

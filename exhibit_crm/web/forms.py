"""Turning the admin pages' HTML forms into service input, and service refusals back into field errors."""

from __future__ import annotations

import dataclasses

from starlette.datastructures import FormData

from ..errors import DomainError
from .refusals import refusal_message

# The form fields of each kind the admin pages edit, in the services' own names.
FIELDS = {
    "series": ("name", "name_zh"),
    "edition": ("name", "year", "venue", "timezone", "badge_layout"),
    "day": ("day", "opens_at", "closes_at"),
    "zone": ("name", "name_zh", "reentry", "margin_minutes"),
    "gate": ("name",),
    "badge_type": ("code", "name", "name_zh", "color", "audience"),
    "question": ("key", "label", "label_zh", "kind", "required", "position", "options"),
    "product_category": ("code", "name", "name_zh"),
    "copy": ("year", "start", "name"),  # a new edition from this one
}
CHECKBOXES = {"required"}


# What an option may carry beyond its labels: the product category it stands for (matchmaking) and the badge type
# that choosing it gives (the registration's badge type rule).
OPTION_TAGS = ("category", "badge_type")


def parse_options(text: str) -> list[dict]:
    """One option per line, "value|English label|中文标签", then any "category=CODE" and "badge_type=CODE" parts;
    the labels may be left out."""
    options = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        tags = dict(part.split("=", 1) for part in parts[1:] if part.split("=", 1)[0] in OPTION_TAGS and "=" in part)
        labels = [part for part in parts[1:] if not (part.split("=", 1)[0] in OPTION_TAGS and "=" in part)]
        value, label, label_zh = ([parts[0], *labels] + ["", ""])[:3]
        option = {"value": value, "label": label or value, "label_zh": label_zh}
        option.update({key: tags[key].strip() for key in OPTION_TAGS if tags.get(key, "").strip()})
        options.append(option)
    return options


def options_text(options: list[dict]) -> str:
    """The options of a question as the textarea shows them, the inverse of parse_options."""
    return "\n".join("|".join([str(o.get("value", "")), str(o.get("label", "")), str(o.get("label_zh", "")),
                               *(f"{key}={o[key]}" for key in OPTION_TAGS if o.get(key))])
                     for o in options)


def form_data(kind: str, form: FormData) -> dict:
    """The fields of one kind out of a submitted form, as the services take them."""
    data: dict = {}
    for name in FIELDS[kind]:
        if name in CHECKBOXES:
            data[name] = name in form
        elif name == "options":
            data[name] = parse_options(str(form.get(name, "")))
        else:
            data[name] = str(form.get(name, "")).strip()
    return data


@dataclasses.dataclass(frozen=True)
class FormError:
    """An action the services refused, shown next to the form it came from (pages with forms of their own)."""

    form: str
    message: str
    field: str | None = None
    status: int = 422
    value: str = ""  # what the user typed into the field, for a form of one field


@dataclasses.dataclass(frozen=True)
class Failure:
    """A form the services refused: which form, what the user typed, and where the error goes."""

    form: str
    message: str
    status: int
    field: str | None = None  # None: the error belongs to the whole form
    values: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, form_id: str, kind: str, form: FormData | None, exc: DomainError) -> Failure:
        name = (exc.field or "").split(".")[0]
        return cls(form=form_id, message=refusal_message(exc, page="setup"), status=exc.status,
                   field=name if name in FIELDS.get(kind, ()) else None,
                   values={key: value for key, value in (form or {}).items() if key != "csrf_token"})

    def value(self, form_id: str, name: str, default: object = "") -> object:
        """What a field shows: the user's input on the refused form, else the stored value."""
        if form_id != self.form:
            return default
        if name in CHECKBOXES:
            return name in self.values
        return self.values.get(name, "")

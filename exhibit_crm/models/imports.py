"""Imports of visitor and exhibitor lists: the uploaded file, its column mapping, progress and report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from .types import created_at_field, enum_check, json_field, when_field

IMPORT_KINDS = ("visitors", "exhibitors")
IMPORT_STATUSES = ("uploaded", "checked", "running", "done", "failed")


# ImportJob: one file on its way in; the web pages and the CLI show its status and progress from here.
class ImportJob(SQLModel, table=True):
    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint(enum_check("kind", IMPORT_KINDS), name="kind"),
        CheckConstraint(enum_check("status", IMPORT_STATUSES), name="status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=12)
    source: str = Field(max_length=120)
    filename: str = Field(max_length=255)
    # the stored upload, relative to DATA_DIR
    path: str = Field(max_length=500)
    encoding: str = Field(default="", max_length=20)
    # {column header: field name}
    mapping: dict = json_field(dict)
    valid_only: bool = False
    status: str = Field(default="uploaded", max_length=10)
    rows_total: int = 0
    rows_done: int = 0
    # counts and invalid rows of the last dry run or commit
    report: dict = json_field(dict)
    error: str = Field(default="", max_length=2000)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = created_at_field()
    finished_at: datetime | None = when_field()

"""Lead lists as files: CSV, XLSX and a CRM-import CSV, one row per lead, its qualification answers as columns.

The rows come from badge_scanner.leads (its one query, its consent-aware visitor card); this module only turns them
into files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from badge_scanner.leads import LeadRow
from exhibit_crm.i18n import N_, translations
from exhibit_crm.models import Edition, LeadQuestion
from exhibit_crm.models.exhibitors import LEAD_RATINGS
from exhibit_crm.sharing import VisitorCard

from .tables import CONTENT_TYPES, Column, Download, Table

FORMATS = ("csv", "xlsx", "crm-csv")


def _answer(question: LeadQuestion, value):
    return _answer_of(value, question.kind == "checkbox")


def _answer_of(value, checkbox: bool):
    if checkbox:
        return bool(value) if value is not None else None
    return value


class LeadList(Table):
    """The exhibitor's own list: every field the visitor shares, then one column per qualification question."""

    sheet_title = "Leads"
    TITLES = (N_("Scanned at"), N_("Updated at"), N_("Rating"), N_("Scanned by"), N_("Visitor name"), N_("Company"),
              N_("Badge type"), N_("Title"), N_("E-mail"), N_("Phone"), N_("Country"), N_("Province"), N_("City"),
              N_("Notes"))
    KINDS = ("datetime", "datetime") + ("text",) * 12

    def __init__(self, records: Sequence[LeadRow], questions: Sequence[LeadQuestion], *, tz: ZoneInfo,
                 language: str = "en"):
        self.records, self.questions, self.tz = records, questions, tz
        self.gettext = translations(language).gettext

    def columns(self) -> list[Column]:
        fixed = [Column(self.gettext(title), kind, 18 if kind == "datetime" else 16)
                 for title, kind in zip(self.TITLES, self.KINDS, strict=True)]
        return fixed + [Column(question.label, "bool" if question.kind == "checkbox" else "text")
                        for question in self.questions]

    def rows(self) -> Iterable[Sequence]:
        keyed = [(str(q.id), q.kind == "checkbox") for q in self.questions]
        ratings = {rating: self.gettext(rating) for rating in LEAD_RATINGS}
        for record in self.records:
            card, answers = record.visitor, record.answers
            yield (record.created_at.astimezone(self.tz), record.updated_at.astimezone(self.tz),
                   ratings.get(record.rating, ""), record.scanned_by, card.name, card.company,
                   card.badge_type, card.title, card.email, card.phone, card.country, card.province, card.city,
                   record.notes, *(_answer_of(answers.get(key), checkbox) for key, checkbox in keyed))


# The usual layout of a CRM's lead import (Salesforce, HubSpot and Zoho map these headers by name).
CRM_COLUMNS = ("First Name", "Last Name", "Company", "Email", "Phone", "Title", "Country", "Lead Source", "Rating",
               "Description")
# two-character Chinese surnames, so that 欧阳娜 splits as 欧阳 + 娜
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯")


def split_name(card: VisitorCard) -> tuple[str, str]:
    """(first name, last name): the contact's own parts if known, else split from the full name."""
    if card.first_name or card.last_name:
        return card.first_name, card.last_name
    name = card.name.strip()
    if name and "\u4e00" <= name[0] <= "\u9fff" and " " not in name:
        surname = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[surname:], name[:surname]
    first, _, last = name.rpartition(" ")
    return (first, last) if first else ("", name)


class CrmLeadList(Table):
    """The list as a CRM imports it: English headers, ratings as Hot/Warm/Cold, answers folded into the notes."""

    sheet_title = "Leads"

    def __init__(self, records: Sequence[LeadRow], questions: Sequence[LeadQuestion], *, source: str):
        self.records, self.questions, self.source = records, questions, source

    def columns(self) -> list[Column]:
        return [Column(title) for title in CRM_COLUMNS]

    def rows(self) -> Iterable[Sequence]:
        for record in self.records:
            card = record.visitor
            first, last = split_name(card)
            answers = [f"{q.label}: {_answer_text(_answer(q, record.answers.get(str(q.id))))}"
                       for q in self.questions if record.answers.get(str(q.id)) not in (None, "", [])]
            description = "\n".join(part for part in (record.notes, *answers) if part)
            yield (first, last, card.company, card.email, card.phone, card.title, card.country, self.source,
                   (record.rating or "").title(), description)


def _answer_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def lead_file(rows: Sequence[LeadRow], questions: Sequence[LeadQuestion], *, fmt: str, edition: Edition,
              company: str, language: str = "en") -> Download:
    """The rows as a file of one of FORMATS, named after the edition and the exhibitor's company."""
    if fmt == "crm-csv":
        table: Table = CrmLeadList(rows, questions, source=f"Trade Show - {edition.name}")
    else:
        table = LeadList(rows, questions, tz=ZoneInfo(edition.timezone), language=language)
    data = table.render("xlsx" if fmt == "xlsx" else "csv")
    stem = f"leads-{edition.year}-{_slug(company)}"
    suffix = "-crm.csv" if fmt == "crm-csv" else f".{fmt}"
    return Download(stem + suffix, CONTENT_TYPES["xlsx" if fmt == "xlsx" else "csv"], data, len(rows))


def _slug(name: str) -> str:
    # Chinese company names stay readable in the file name; only what file systems refuse is replaced
    cleaned = "".join("-" if ch in '\\/:*?"<>|' or ch.isspace() else ch for ch in name)
    return cleaned.strip("-")[:60] or "exhibitor"

"""Reading an uploaded list: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or XLSX, and the column mapping its header
suggests.

Organisers' lists come from Excel on Chinese Windows (GBK), from Excel elsewhere (UTF-8 with BOM), from other
systems (plain UTF-8) or as workbooks. The encoding is detected rather than asked: a file that decodes as UTF-8
strictly is UTF-8 (GBK text almost never does), anything else is read as GB18030, GBK's superset.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import RegistrationQuestion

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk")
ZIP_MAGIC = b"PK\x03\x04"
# a list is at most this big, whatever its file: a workbook can claim or unpack to far more than it weighs
MAX_ROWS = 250_000
MAX_COLUMNS = 200
MAX_UNPACKED = 256 * 2**20  # bytes all parts of a workbook may unpack to
MAX_RATIO = 200  # a part of more than RATIO_FROM bytes may unpack to at most this many times its packed size
RATIO_FROM = 2**20
ANSWER = "answers."  # a field "answers.interests" is the answer to the edition's question "interests"

# field -> header spellings (compared folded: NFKC, lower case, no spaces or punctuation)
VISITOR_FIELDS = {
    "full_name": ("name", "full name", "fullname", "contact", "contact name", "姓名", "名字", "联系人", "全名"),
    "email": ("email", "e-mail", "mail", "email address", "e-mail address", "邮箱", "电子邮件", "电子邮箱", "邮件",
              "邮箱地址", "电子邮件地址"),
    "phone": ("phone", "mobile", "mobile phone", "cell", "cellphone", "tel", "telephone", "phone number",
              "mobile number", "手机", "手机号", "手机号码", "电话", "联系电话", "移动电话", "电话号码"),
    "company": ("company", "company name", "organisation", "organization", "employer", "公司", "公司名称", "单位",
                "单位名称", "企业", "企业名称", "工作单位"),
    "title": ("title", "job title", "position", "job", "role", "职位", "职务", "头衔", "岗位"),
    "country": ("country", "country/region", "country or region", "nation", "国家", "地区", "国家/地区", "国家或地区"),
    "province": ("province", "state", "region", "省份", "省", "省/直辖市", "所在省份"),
    "city": ("city", "town", "城市", "市", "所在城市"),
    "language": ("language", "lang", "语言"),
    "badge_type": ("badge type", "badge", "visitor type", "证件类型", "胸卡类型", "观众类型", "胸卡"),
}
EXHIBITOR_FIELDS = {
    "company": VISITOR_FIELDS["company"] + ("exhibitor", "展商", "展商名称", "参展商", "参展商名称", "参展企业"),
    "website": ("website", "web", "url", "homepage", "网站", "网址", "官网", "公司网址"),
    "country": VISITOR_FIELDS["country"],
    "province": VISITOR_FIELDS["province"],
    "city": VISITOR_FIELDS["city"],
    "status": ("status", "state of booking", "状态", "参展状态", "签约状态"),
    "booth_hall": ("hall", "booth hall", "展馆", "馆号", "展厅"),
    "booth_number": ("booth", "booth number", "booth no", "stand", "stand number", "展位", "展位号"),
    "booth_sqm": ("sqm", "m2", "m²", "area", "booth area", "size", "面积", "展位面积", "面积(m²)", "平方米"),
    "product_categories": ("categories", "category", "product categories", "products", "产品类别", "展品类别",
                           "产品分类", "展品范围", "类别"),
    "staff_allowance": ("staff allowance", "staff badges", "allowance", "工作人员名额", "工作证名额", "人员名额"),
}
FIELDS = {"visitors": VISITOR_FIELDS, "exhibitors": EXHIBITOR_FIELDS}


@dataclass(frozen=True)
class Table:
    """A file's header and rows (text cells, as many as the header), each row with its line as the user sees it."""
    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str  # "utf-8", "utf-8-sig" (with BOM), "gb18030", … or "xlsx"


def read_table(data: bytes, *, encoding: str | None = None) -> Table:
    """The table in an uploaded file: XLSX (recognised by its content) or CSV in the given or detected encoding."""
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    text, found = decode(data, encoding)
    return _read_csv(text, found)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and its encoding: the one given, else UTF-8 (with or without BOM), else GB18030."""
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for candidate in candidates:
        try:
            codecs.lookup(candidate)
            text = data.decode(candidate)
        except LookupError:
            raise InvalidInput("unknown_encoding", f"encoding: {candidate!r} is not an encoding",
                               field="encoding") from None
        except UnicodeDecodeError:
            continue
        if candidate == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8):
            candidate = "utf-8"
        return text, candidate
    raise InvalidInput("unreadable", "file: the file is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8)",
                       field="file")


def _read_csv(text: str, encoding: str) -> Table:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    line = 1  # the line the next record starts on; a quoted cell may span lines
    for record in reader:
        if header is None:
            header = unique_headers(record)
            _check_columns(len(header))
        elif any(cell.strip() for cell in record):
            rows.append((line, _fit(record, len(header))))
            _check_rows(len(rows))
        line = reader.line_num + 1
    if not header or not any(h.strip() for h in header):
        raise InvalidInput("empty_file", "file: the file has no header row", field="file")
    return Table(header, rows, encoding)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # loaded when a workbook comes, not on every start

    _check_unpacked(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign zip
        raise InvalidInput("unreadable", "file: this is not an Excel workbook (.xlsx) that can be read",
                           field="file") from None
    try:
        header, rows = _sheet_rows(book.worksheets[0])
    finally:
        book.close()
    if not any(h.strip() for h in header):
        raise InvalidInput("empty_file", "file: the workbook's first sheet has no header row", field="file")
    return Table(header, rows, "xlsx")


def _sheet_rows(sheet) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and non-blank rows of a read-only sheet, refused when its stated size (<dimension>) or its rows
    go past the caps; rows and columns are read up to the caps only, so sparse cells far out cost nothing."""
    _check_rows((sheet.max_row or 1) - 1)
    _check_columns(sheet.max_column or 0)
    found = sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=sheet.max_column or MAX_COLUMNS + 1, values_only=True)
    first = list(next(found, ()))
    while not sheet.max_column and first and first[-1] in (None, ""):  # unsized: the header ends at its last cell
        first.pop()
    _check_columns(len(first))
    header = unique_headers([cell_text(v) for v in first])
    rows = []
    for number, values in enumerate(found, start=2):
        _check_rows(number - 1)  # blank rows too: openpyxl fills the gap up to a row far out
        if any(v not in (None, "") for v in values):
            rows.append((number, _fit([cell_text(v) for v in values], len(header))))
    return header, rows


def _check_unpacked(data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_UNPACKED bytes, or a big part packed suspiciously well
    (a zip bomb), before anything reads them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile:
        raise InvalidInput("unreadable", "file: this is not an Excel workbook (.xlsx) that can be read",
                           field="file") from None
    bombs = [p for p in parts if p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1)]
    if bombs or sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise InvalidInput("unpacks_too_large", f"file: the workbook unpacks to more than {MAX_UNPACKED // 2**20} "
                           "MiB; save it as CSV or split it", field="file")


def _check_rows(count: int) -> None:
    if count > MAX_ROWS:
        raise InvalidInput("too_many_rows", f"file: more than {MAX_ROWS} rows; split the list", field="file")


def _check_columns(count: int) -> None:
    if count > MAX_COLUMNS:
        raise InvalidInput("too_many_columns", f"file: more than {MAX_COLUMNS} columns", field="file")


def cell_text(value: object) -> str:
    """A workbook cell as the text a CSV would hold: 13800138000, not 13800138000.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _fit(cells: list[str], width: int) -> list[str]:
    return [c.strip() for c in cells[:width]] + [""] * (width - len(cells))


def unique_headers(header: Iterable[str]) -> list[str]:
    """Header cells made unique ("Phone", "Phone (2)"): the mapping is keyed by them. Blank ones get a letter."""
    seen: dict[str, int] = {}
    result = []
    for index, cell in enumerate(header):
        name = _CONTROL.sub("", cell).strip().lstrip("\ufeff") or f"#{index + 1}"
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return result


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in a header, no control character is meant
_PUNCTUATION = re.compile(r"[\s_\-:：*()（）\[\]【】.。#]+")


def _folded(text: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text).lower())


def field_names(kind: str, questions: Iterable[RegistrationQuestion] = ()) -> list[str]:
    """The fields a column can be mapped to for this kind of list."""
    extra = [ANSWER + q.key for q in questions] if kind == "visitors" else []
    return [*FIELDS[kind], *extra]


def suggest_mapping(header: list[str], *, kind: str,
                    questions: Iterable[RegistrationQuestion] = ()) -> dict[str, str]:
    """{column: field} for the columns whose header names a field, in English or Chinese; each field once."""
    spellings = {_folded(s): field for field, names in FIELDS[kind].items() for s in (field, *names)}
    if kind == "visitors":
        for q in questions:
            for s in (q.key, q.label, q.label_zh):
                if s:
                    spellings.setdefault(_folded(s), ANSWER + q.key)
    mapping: dict[str, str] = {}
    for column in header:
        field = spellings.get(_folded(column))
        if field and field not in mapping.values():
            mapping[column] = field
    return mapping


def check_mapping(mapping: dict[str, str], *, header: list[str], kind: str,
                  questions: Iterable[RegistrationQuestion] = ()) -> dict[str, str]:
    """The mapping without blank entries, refused when it names an unknown column or field or maps a field twice."""
    allowed = set(field_names(kind, questions))
    cleaned = {column: field for column, field in mapping.items() if field}
    for column, field in cleaned.items():
        if column not in header:
            raise InvalidInput("unknown_column", f"mapping: the file has no column {column!r}", field="mapping")
        if field not in allowed:
            raise InvalidInput("unknown_field", f"mapping: {field!r} is not a field of a {kind} list",
                               field="mapping")
    fields = list(cleaned.values())
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise InvalidInput("field_twice", f"mapping: {', '.join(twice)} is mapped from two columns", field="mapping")
    needed = "company" if kind == "exhibitors" else "full_name"
    if needed not in fields:
        raise InvalidInput("field_missing", f"mapping: no column is mapped to {needed}", field="mapping")
    return cleaned

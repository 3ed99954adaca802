"""Desk search latency over 200,000 registered contacts, queries as the desk types them, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, insert, literal, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from badge_scanner.codes import Signer, Verifier
from bench.common import (
    emit,
    fresh_database,
    log,
    machine,
    median,
    now_iso,
    percentile,
    postgres_server,
    postgres_version,
)
from event_phases.on_site.search import search
from exhibit_crm.db import reader, session_scope
from exhibit_crm.models import BadgeType, Company, Contact, Edition, Registration, Series, utcnow
from exhibit_crm.models.search import DeskSearchCompanyTerm, DeskSearchTerm

# Surnames roughly by frequency (the first ones are the common ones), with two compound surnames.
SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"),
            ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"),
            ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("许", "xu"),
            ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"),
            ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"), ("潘", "pan"), ("蒋", "jiang"),
            ("蔡", "cai"), ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"), ("魏", "wei"),
            ("吕", "lv"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"), ("钟", "zhong"),
            ("欧阳", "ouyang"), ("司马", "sima")]
SURNAME_WEIGHTS = [1 / (rank + 4) for rank in range(len(SURNAMES))]
GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
         ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
         ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
         ("英", "ying"), ("华", "hua"), ("玉", "yu"), ("萍", "ping"), ("红", "hong"), ("飞", "fei"), ("鹏", "peng"),
         ("斌", "bin"), ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
         ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("欢", "huan"), ("阳", "yang"), ("建", "jian"), ("国", "guo"),
         ("志", "zhi"), ("文", "wen"), ("辉", "hui"), ("力", "li"), ("永", "yong"), ("春", "chun"), ("晓", "xiao"),
         ("峰", "feng"), ("燕", "yan"), ("雪", "xue"), ("琳", "lin"), ("晶", "jing"), ("婷", "ting"), ("慧", "hui"),
         ("颖", "ying"), ("倩", "qian"), ("佳", "jia"), ("嘉", "jia"), ("思", "si"), ("雨", "yu"), ("欣", "xin"),
         ("梦", "meng"), ("子", "zi"), ("涵", "han"), ("轩", "xuan"), ("博", "bo"), ("诗", "shi"), ("梓", "zi"),
         ("萱", "xuan"), ("晨", "chen"), ("睿", "rui"), ("泽", "ze"), ("昊", "hao"), ("海", "hai"), ("波", "bo"),
         ("亮", "liang"), ("东", "dong"), ("成", "cheng"), ("德", "de"), ("荣", "rong"), ("光", "guang"),
         ("天", "tian"), ("鑫", "xin"), ("䶮", "yan")]
FIRST = ["Anna", "James", "Maria", "David", "Sarah", "Thomas", "Laura", "Michael", "Sophie", "Lukas", "Giulia",
         "Marco", "Olivia", "Kenji", "Minh", "Fatima", "Jürgen", "Zoë", "Peter", "Emma", "Hans", "Elena", "Carlos",
         "Yuki", "Ahmed", "Priya", "Lars", "Ingrid", "Pierre", "Chloé"]
LAST = ["Schmidt", "Smith", "Müller", "Rossi", "García", "Johnson", "Brown", "Dubois", "Tanaka", "Kim", "Nguyen",
        "O'Brien", "Novak", "Hansen", "Silva", "Kowalski", "Weber", "Fischer", "Bianchi", "Martin", "Sato", "Park",
        "Jensen", "Lindqvist", "Moreau", "Fernández", "Patel", "Khan", "Andersson", "Costa"]
CITIES = ["上海", "广州", "佛山", "东莞", "深圳", "杭州", "苏州", "宁波", "成都", "厦门", "青岛", "天津", "温州"]
BRAND = list("华美宏达鑫盛恒泰金源新隆顺丰瑞祥富康安嘉豪雅欧亚联创正兴宝利通发德信诚永佳和顺益")
TRADE = ["家具", "家居", "木业", "灯饰", "五金", "建材", "装饰", "软装", "床垫", "布艺", "陶瓷", "卫浴", "门窗", "地板"]
FORM = ["有限公司", "制造有限公司", "贸易有限公司", "股份有限公司", "实业有限公司"]
BRAND_EN = ["Nordic", "Casa", "Arbor", "Linea", "Oak & Stone", "Bella", "Vista", "Alpine", "Modena", "Kyoto",
            "Harbor", "Atelier", "Summit", "Lumen", "Terra", "Velvet", "Cedar", "Aurora"]
TRADE_EN = ["Furniture", "Interiors", "Lighting", "Home", "Design", "Living", "Woodworks", "Textiles"]
FORM_EN = ["GmbH", "Ltd.", "Inc.", "S.r.l.", "Co., Ltd.", "AB", "SAS"]
CN_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com"]
MOBILE = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159",
          "166", "176", "177", "180", "181", "186", "187", "188", "189", "199"]
ABROAD = [("+4915", 9), ("+1212", 7), ("+447", 9), ("+393", 9), ("+8190", 8), ("+8210", 8), ("+336", 8)]
# characters that no generated name, company or e-mail holds: queries made of them find nobody
ABSENT = list("鬱龘齉爨灪麤纞") + list("qxzvj")


def company_rows(n: int, rng: random.Random) -> list[dict]:
    rows = []
    for _ in range(n):
        if rng.random() < 0.8:
            name = rng.choice(CITIES) + "".join(rng.sample(BRAND, 2)) + rng.choice(TRADE) + rng.choice(FORM)
        else:
            name = f"{rng.choice(BRAND_EN)} {rng.choice(TRADE_EN)} {rng.choice(FORM_EN)}"
        rows.append({"name": name, "name_key": "".join(name.lower().split()), "country": "CN"})
    return rows


def _chinese(rng: random.Random, i: int) -> dict:
    surname, s_py = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    given = rng.sample(GIVEN, 1 if rng.random() < 0.3 else 2)
    g_py = "".join(py for _, py in given)
    style = rng.random()
    if style < 0.3:
        email = f"{100_000_000 + 13 * i + rng.randrange(13)}@qq.com"  # QQ numbers, unique like every e-mail
    elif style < 0.6:
        email = f"{s_py}{g_py}{i}@{rng.choice(CN_DOMAINS)}"
    else:
        email = f"{g_py}.{s_py}{rng.choice(['', '_', '.'])}{i}@{rng.choice(CN_DOMAINS)}"
    phone = f"+86{rng.choice(MOBILE)}{rng.randint(0, 99_999_999):08d}"
    return {"full_name": surname + "".join(c for c, _ in given), "last_name": surname,
            "first_name": "".join(c for c, _ in given), "email": email if rng.random() < 0.9 else None,
            "phone": phone, "country": "CN", "language": "zh-CN"}


def _international(rng: random.Random, i: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    prefix, digits = rng.choice(ABROAD)
    local = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and (c.isalnum() or c == "."))
    return {"full_name": f"{first} {last}", "first_name": first, "last_name": last,
            "email": f"{local}{i}@example-{rng.randint(1, 500)}.com",
            "phone": f"{prefix}{rng.randrange(10**digits):0{digits}d}", "country": "DE", "language": "en"}


def contact_rows(n: int, companies: int, rng: random.Random) -> list[dict]:
    """n contacts (three in four Chinese), four in five with a company; the same list for the same seed."""
    rows, phones = [], set()
    for i in range(n):
        row = _chinese(rng, i) if rng.random() < 0.75 else _international(rng, i)
        while row["phone"] in phones:  # one contact per phone number, as the schema demands
            row = _chinese(rng, i) if row["country"] == "CN" else _international(rng, i)
        phones.add(row["phone"])
        row["company_id"] = rng.randint(1, companies) if rng.random() < 0.8 else None
        rows.append(row)
    return rows


def build(engine: Engine, args: argparse.Namespace, rng: random.Random) -> dict:
    """Companies, contacts and one registration each in one edition, through Core bulk inserts (the triggers index)."""
    companies = company_rows(args.companies, rng)
    contacts = contact_rows(args.contacts, args.companies, rng)
    started = time.perf_counter()
    with session_scope(engine) as session:
        session.execute(insert(Company).execution_options(render_nulls=True), companies)
        company_ids = list(session.scalars(select(Company.id).order_by(Company.id)))
        for row in contacts:
            row["company_id"] = company_ids[row["company_id"] - 1] if row["company_id"] else None
        session.execute(insert(Contact).execution_options(render_nulls=True), contacts)
    indexed = time.perf_counter() - started
    with session_scope(engine) as session:
        series = Series(name="Shanghai International Furniture Fair")
        session.add(series)
        session.flush()
        edition = Edition(series_id=series.id, name="Furniture Fair 2026", year=2026)
        session.add(edition)
        session.flush()
        badge = BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor", audience="trade_visitor")
        session.add(badge)
        session.flush()
        session.execute(insert(Registration).from_select(
            ["contact_id", "edition_id", "badge_type_id", "source", "status", "badge_version", "answers",
             "registered_at"],
            select(Contact.id, literal(edition.id), literal(badge.id), literal("import"), literal("registered"),
                   literal(1), literal({}, Registration.__table__.c.answers.type),
                   literal(utcnow(), Registration.__table__.c.registered_at.type))))
        edition_id = edition.id
    if engine.dialect.name == "postgresql":
        # what autovacuum does shortly after a bulk load; without statistics the planner guesses
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    with Session(engine) as session:
        sizes = _sizes(session)
        terms = session.scalar(select(func.count()).select_from(DeskSearchTerm))
        company_terms = session.scalar(select(func.count()).select_from(DeskSearchCompanyTerm))
        registrations = session.execute(select(Registration.id, Contact.full_name).join(Contact)).all()
    return {"edition_id": edition_id, "companies": companies, "contacts": contacts, "insert_s": indexed,
            "terms": terms, "company_terms": company_terms, "registrations": registrations, **sizes}


def _sizes(session: Session) -> dict:
    """Megabytes on disk of the search index (both term tables) and of the contact table with its indexes."""
    index = _megabytes(session, ["desk_search_term", "desk_search_company_term"])
    return {"index_mb": index, "contact_mb": _megabytes(session, ["contact"])}


def _megabytes(session: Session, tables: list[str]) -> float:
    listed = ", ".join(f"'{table}'" for table in tables)  # our own table names, not input
    if session.get_bind().dialect.name == "postgresql":
        total = session.scalar(text(f"SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY[{listed}]) AS t"))
    else:
        # dbstat lists each b-tree by name: the tables' and their indexes'
        total = session.scalar(text(f"SELECT sum(pgsize) FROM dbstat WHERE name IN "
                                    f"(SELECT name FROM sqlite_master WHERE tbl_name IN ({listed}))"))
    return round(float(total or 0) / 2**20, 1)


def queries(data: dict, signer: Signer | None, per_kind: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs as a desk types them, shuffled."""
    chinese = [c for c in data["contacts"] if c["country"] == "CN"]
    two_char = [c["full_name"] for c in chinese if len(c["full_name"]) == 2]
    three_char = [c["full_name"] for c in chinese if len(c["full_name"]) == 3]
    international = [c for c in data["contacts"] if c["country"] != "CN"]
    with_email = [c["email"] for c in data["contacts"] if c["email"]]
    phones = [c["phone"] for c in chinese]
    made = {
        "cn_name_2": lambda: rng.choice(two_char),
        "cn_name_3": lambda: rng.choice(three_char),
        "cn_given_name": lambda: rng.choice(three_char)[1:],
        "en_name_part": lambda: _en_part(rng.choice(international), rng),
        "company_part": lambda: _company_part(rng.choice(data["companies"])["name"], rng),
        "email_part": lambda: _email_part(rng.choice(with_email), rng),
        "phone_last4": lambda: rng.choice(phones)[-4:],
        "phone_full": lambda: _spaced_phone(rng.choice(phones), rng),
        "typing_first_char": lambda: rng.choice([rng.choice(chinese)["full_name"][0],
                                                 rng.choice(international)["full_name"][:2]]),
        "no_hit": lambda: "".join(rng.sample(ABSENT, rng.randint(2, 4))),
    }
    if signer is not None:
        registrations = data["registrations"]
        made["badge_code"] = lambda: signer.sign(rng.choice(registrations)[0], 1)
    pairs = [(kind, make()) for kind, make in made.items() for _ in range(per_kind)]
    rng.shuffle(pairs)
    return pairs


def _en_part(contact: dict, rng: random.Random) -> str:
    first, last = contact["first_name"], contact["last_name"]
    return rng.choice([last.lower(), last[:4], f"{first} {last[:2]}", first[1:5]])


def _company_part(name: str, rng: random.Random) -> str:
    if name.isascii():
        return rng.choice(name.split()[:2]).lower()
    start = rng.randrange(2, 5)  # past the city: the brand, or the brand and the trade
    return name[start:start + rng.choice([2, 3, 4])]


def _email_part(email: str, rng: random.Random) -> str:
    local, domain = email.split("@")
    return rng.choice([local[:rng.randint(4, 8)], email, local, "@" + domain.split(".")[0]])


def _spaced_phone(phone: str, rng: random.Random) -> str:
    national = phone[3:]
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    return rng.choice([spaced, "+86 " + spaced, national])


def run_queries(engine: Engine, edition_id: int, pairs: list[tuple[str, str]], verifier: Verifier | None,
                everyone: bool) -> list[tuple[str, float, int]]:
    """(kind, seconds, hits) for each query, each in its own read transaction as a desk request makes it."""
    results = []
    for kind, query in pairs:
        start = time.perf_counter()
        with Session(reader(engine)) as session:
            hits = search(session, edition_id=edition_id, query=query, verifier=verifier,
                          include_unregistered=everyone)
        results.append((kind, time.perf_counter() - start, len(hits)))
    return results


def _insert_contact(session: Session, n: int, _contact_id: int) -> None:
    session.add(Contact(full_name=f"步行者{n}", email=f"walk.in{n}@example.cn", phone=f"+8619900{n:06d}"))


def _rename_contact(session: Session, n: int, contact_id: int) -> None:
    session.get(Contact, contact_id).full_name = f"改名{n}"


def _delete_contact(session: Session, n: int, _contact_id: int) -> None:
    session.delete(session.scalars(select(Contact).where(Contact.email == f"walk.in{n}@example.cn")).one())


WRITES = {"insert_contact": _insert_contact, "rename_contact": _rename_contact, "delete_contact": _delete_contact}


def time_writes(engine: Engine, data: dict, count: int, rng: random.Random) -> dict[str, list[tuple[str, float, int]]]:
    """Single-row writes that the triggers index, each committed on its own: a walk-in, a name corrected, a deletion."""
    timings: dict[str, list[tuple[str, float, int]]] = {op: [] for op in WRITES}
    for n in range(count):
        contact_id = rng.randint(1, len(data["contacts"]))
        for op, write in WRITES.items():
            start = time.perf_counter()
            with session_scope(engine) as session:
                write(session, n, contact_id)
            timings[op].append((op, time.perf_counter() - start, 1))
    return timings


def _figure(op: str, runs: list[list[tuple[str, float, int]]]) -> dict:
    """Median over runs of each run's percentiles (and of the worst query) in milliseconds."""
    def per_run(p):
        return median([percentile([seconds for _, seconds, _ in run], p) for run in runs]) * 1000
    return {"op": op, "unit": "queries", "count": len(runs[0]), "runs": len(runs),
            "median_s": round(median([sum(s for _, s, _ in run) for run in runs]), 4),
            "p50_ms": round(per_run(50), 3), "p95_ms": round(per_run(95), 3), "p99_ms": round(per_run(99), 3),
            "max_ms": round(median([max(s for _, s, _ in run) for run in runs]) * 1000, 3),
            "hits_median": median([hits for _, _, hits in runs[0]])}


@contextmanager
def _server(backend: str, args: argparse.Namespace) -> Iterator[tuple[str | None, dict]]:
    if backend == "sqlite":
        yield None, machine()
        return
    with postgres_server(args.database_url) as url:
        yield url, machine(postgres_version=postgres_version(url))


def measure_backend(backend: str, args: argparse.Namespace, workdir: Path) -> None:
    """Build the show once, then time the query mix --runs times; one JSON line overall and one per kind."""
    rng = random.Random(args.seed)
    signer = Signer.generate() if not args.no_badge_codes else None
    verifier = signer.verifier if signer else None
    with _server(backend, args) as (server_url, described), \
            fresh_database(workdir=workdir, server_url=server_url) as engine:
        log(f"desk_search {backend}: building {args.contacts} contacts, {args.companies} companies")
        data = build(engine, args, rng)
        log(f"desk_search {backend}: inserted and indexed in {data['insert_s']:.1f} s "
            f"({data['terms']} contact terms, {data['company_terms']} company terms)")
        pairs = queries(data, signer, args.per_kind, rng)
        run_queries(engine, data["edition_id"], pairs[:50], verifier, False)  # warm the caches
        # MODES: the edition's registrations only, and as the desk asks (then the contacts without one)
        runs: dict[str, list] = {op: [] for op in MODES}
        for run in range(1, args.runs + 1):
            for op, everyone in MODES.items():
                runs[op].append(run_queries(engine, data["edition_id"], pairs, verifier, everyone))
                log(f"desk_search {backend} run {run}/{args.runs}: {op} {len(pairs)} queries "
                    f"in {sum(s for _, s, _ in runs[op][-1]):.2f} s")
        writes = time_writes(engine, data, args.writes, rng)
        common = {"bench": "desk_search", "backend": backend, "table_rows": args.contacts,
                  "companies": args.companies, "index_rows": data["terms"] + data["company_terms"],
                  "index_mb": data["index_mb"], "contact_mb": data["contact_mb"],
                  "bulk_insert_s": round(data["insert_s"], 3), "at": now_iso(), "machine": described}
        for op, op_runs in runs.items():
            emit({**common, **_figure(op, op_runs)})
            for kind in dict.fromkeys(kind for kind, _ in pairs):
                emit({**common, **_figure(f"{op}:{kind}", [[r for r in run if r[0] == kind] for run in op_runs])})
        for op, timings in writes.items():
            emit({**common, **_figure(op, [timings])})


MODES = {"search": False, "search_with_unregistered": True}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench desk_search", description=__doc__)
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--contacts", type=int, default=200_000, help="contacts, each registered (default 200000)")
    p.add_argument("--companies", type=int, default=40_000, help="companies (default 40000)")
    p.add_argument("--per-kind", type=int, default=60, help="queries of each kind per run (default 60)")
    p.add_argument("--writes", type=int, default=200,
                   help="single contacts inserted, renamed and deleted, one per transaction (default 200)")
    p.add_argument("--runs", type=int, default=3, help="runs of the query mix; figures are medians (default 3)")
    p.add_argument("--seed", type=int, default=2026, help="seed for the data and the queries")
    p.add_argument("--no-badge-codes", action="store_true", help="leave badge codes out of the query mix")
    p.add_argument("--database-url", help="an existing PostgreSQL server to use instead of a private cluster "
                                          "(a scratch database is created and dropped; needs CREATEDB)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    for name in ("contacts", "companies", "per_kind", "runs", "writes"):
        if getattr(args, name) < 1:
            parser().error(f"--{name.replace('_', '-')} must be at least 1")
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser().error("--database-url must name a PostgreSQL server")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-") as workdir:
        for backend in backends:
            measure_backend(backend, args, Path(workdir))
    return 0

"""Badge rendering: one badge PNG (and PDF) at a time, and a print sheet of many badges as one PDF."""

from __future__ import annotations

import argparse
import random
import time
from importlib.metadata import version

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badge_scanner.codes import Signer
from badge_scanner.issued_badges import BadgeData
from bench.common import emit, log, machine, median, now_iso, percentile
from bench.storage import FIRST, GIVEN, LAST, SURNAMES
from exporters.badges import SPECS, badge_pdf, badge_png
from exporters.print_sheet import page_count, print_sheet

COMPANIES = ["广州华美家居有限公司", "上海家具进出口有限公司", "欧派家居集团股份有限公司",
             "Deutsche Möbelwerkstätten GmbH", "Casa Italia S.r.l.", "成都市青羊区红木家具厂", "", "Nordic Living AB",
             "深圳市家私设计研究院"]
BADGE_TYPES = [("trade_visitor", "Trade visitor", "专业观众", "#1f6feb"),
               ("vip_buyer", "VIP buyer", "VIP买家", "#f2c94c"),
               ("press", "Press", "媒体", "#2e7d32"),
               ("exhibitor_staff", "Exhibitor staff", "展商", "#c62828")]
EDITION = "上海国际家具展 2026 Furniture Fair"
LONG_NAMES = ["买买提·艾力·阿不都热合曼·吐尔逊江", "Maximilian Alexander von Hohenzollern-Sigmaringen",
              "Maria Fernanda de los Ángeles García Rodríguez"]


def full_name(rng: random.Random) -> str:
    """Names as a show's visitors write them: mostly Chinese (rare characters too), international, mixed, long."""
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(SURNAMES)[0] + rng.choice(GIVEN)[0]
    if roll < 0.85:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if roll < 0.95:
        return f"{rng.choice(FIRST)} {rng.choice(SURNAMES)[0]}{rng.choice(GIVEN)[0]}"
    return rng.choice(LONG_NAMES)


def badges(n: int, *, layout: str, seed: int) -> list[BadgeData]:
    """n badges with genuinely signed codes; the same list for the same seed."""
    rng = random.Random(seed)
    # a key from the seed: Ed25519 signatures are deterministic, so the codes, and their QR symbols, repeat too
    signer = Signer(Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)))
    made = []
    for i in range(1, n + 1):
        code, name, name_zh, colour = rng.choice(BADGE_TYPES)
        made.append(BadgeData(registration_id=i, badge_version=1, code=signer.sign(i, 1), full_name=full_name(rng),
                              company=rng.choice(COMPANIES), badge_type_code=code, badge_type_name=name,
                              badge_type_name_zh=name_zh, color=colour, edition_name=EDITION,
                              layout=layout, status="registered"))
    return made


def _latencies(items: list[BadgeData], render) -> list[float]:
    latencies = []
    for item in items:
        start = time.perf_counter()
        render(item)
        latencies.append(time.perf_counter() - start)
    return latencies


def _figure(op: str, unit: str, layout: str, count: int, runs: list[tuple[float, list[float] | None]],
            config: dict, described: dict) -> dict:
    total = median([seconds for seconds, _ in runs])
    result = {"bench": "badges", "op": op, "layout": layout, "unit": unit, "count": count, "runs": len(runs),
              "median_s": round(total, 4), "per_s": round(count / total, 1)}
    for p in (50, 95, 99):
        per_run = [percentile(latencies, p) for _, latencies in runs if latencies]
        result[f"p{p}_ms"] = round(median(per_run) * 1000, 2) if per_run else None
    return {**result, "config": config, "at": now_iso(), "machine": described}


def measure(layout: str, args: argparse.Namespace, described: dict) -> None:
    config = {"dpi": args.dpi, "pillow": version("pillow"), "fpdf2": version("fpdf2"), "qrcode": version("qrcode")}
    singles = badges(args.badges, layout=layout, seed=args.seed)
    sheet = badges(args.sheet, layout=layout, seed=args.seed + 1)
    # fonts load and the PDF font is parsed once per process: warm up, so the figures are the steady state
    for badge in singles[:3]:
        badge_png(badge, dpi=args.dpi)
        badge_pdf(badge)
    results: dict[str, list] = {"badge_png": [], "badge_pdf": [], "print_sheet": []}
    for run in range(1, args.runs + 1):
        start = time.perf_counter()
        latencies = _latencies(singles, lambda badge: badge_png(badge, dpi=args.dpi))
        results["badge_png"].append((time.perf_counter() - start, latencies))
        pdfs = singles[:args.pdfs]
        start = time.perf_counter()
        latencies = _latencies(pdfs, badge_pdf)
        results["badge_pdf"].append((time.perf_counter() - start, latencies))
        start = time.perf_counter()
        print_sheet(sheet)
        results["print_sheet"].append((time.perf_counter() - start, None))
        log(f"badges {layout} run {run}/{args.runs}: {len(singles)} PNGs in {results['badge_png'][-1][0]:.2f} s, "
            f"{len(pdfs)} PDFs in {results['badge_pdf'][-1][0]:.2f} s, a sheet of {len(sheet)} badges in "
            f"{results['print_sheet'][-1][0]:.2f} s")
    emit(_figure("badge_png", "badges", layout, len(singles), results["badge_png"], config, described))
    emit(_figure("badge_pdf", "badges", layout, len(singles[:args.pdfs]), results["badge_pdf"], config, described))
    emit(_figure("print_sheet", "badges", layout, len(sheet), results["print_sheet"],
                 {**config, "pages": page_count(b.layout for b in sheet)}, described))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench badges", description=__doc__)
    p.add_argument("--layout", choices=[*SPECS, "both"], default="both")
    p.add_argument("--badges", type=int, default=200, help="badge PNGs rendered one at a time per run (default 200)")
    p.add_argument("--pdfs", type=int, default=20, help="single-badge PDFs per run (default 20)")
    p.add_argument("--sheet", type=int, default=1000, help="badges on the print sheet (default 1000)")
    p.add_argument("--dpi", type=int, default=300, help="PNG resolution (default 300)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure; figures are medians (default 3)")
    p.add_argument("--seed", type=int, default=2026, help="seed for names, companies and the signing key")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    for name in ("badges", "pdfs", "sheet", "dpi", "runs"):
        if getattr(args, name) < 1:
            parser().error(f"--{name} must be at least 1")
    described = machine()
    for layout in (list(SPECS) if args.layout == "both" else [args.layout]):
        measure(layout, args, described)
    return 0

"""The edition report benchmark at a tiny size: it builds both editions and prints one JSON line per figure."""

from __future__ import annotations

import json

from tests.bench.test_harness import FIGURE_KEYS, MACHINE_KEYS, bench


def test_tiny_report_run_on_sqlite_prints_generation_report_and_files():
    result = bench("report", "--backend", "sqlite", "--visitors", "400", "--scans", "3000", "--exhibitors", "20",
                   "--leads", "200", "--runs", "2")
    assert result.returncode == 0, result.stderr
    figures = {f["op"]: f for f in map(json.loads, result.stdout.splitlines())}
    assert list(figures) == ["generate", "edition_report", "pdf", "xlsx"]
    for figure in figures.values():
        assert FIGURE_KEYS - {"per_s", "p50_ms", "p95_ms", "p99_ms", "table_rows"} <= figure.keys()
        assert MACHINE_KEYS <= figure["machine"].keys()
        assert figure.get("error") or figure["median_s"] > 0
    report = figures["edition_report"]
    assert (report["backend"], report["runs"], len(report["runs_s"]), report["target_s"]) == ("sqlite", 2, 2, 3.0)
    rows = report["config"]["rows"]
    assert rows["exhibitor"] == 40 and 2 * 3000 * 0.8 < rows["scan"] < 2 * 3000 * 1.2
    shown = report["report"]
    # both editions were built: visitors came to each, some of them to both, and exhibitors rebooked
    assert 0 < shown["attended"] <= shown["registered"] < 400
    assert 0 < shown["previous_attended"] and 0 < shown["returning"] < shown["attended"]
    assert 0.4 < shown["rebooking_rate"] < 0.8 and shown["leads"] > 100
    # the PDF is measured, or its failure reported beside the other figures
    assert figures["pdf"]["target_s"] == 10.0 and (figures["pdf"].get("error") or figures["pdf"]["bytes"] > 0)
    assert figures["xlsx"]["bytes"] > 0


def test_report_rejects_a_nonsense_size():
    result = bench("report", "--visitors", "0", "--backend", "sqlite")
    assert result.returncode == 2
    assert "--visitors must be at least 1" in result.stderr

"""The benchmark harness: discovery, errors, and a tiny storage run that prints well-formed JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import median, percentile

REPO = Path(__file__).resolve().parents[2]
FIGURE_KEYS = {"bench", "backend", "op", "unit", "count", "runs", "median_s", "per_s", "p50_ms", "p95_ms", "p99_ms",
               "table_rows", "config", "at", "machine"}
MACHINE_KEYS = {"cpu", "cores", "memory_gib", "os", "python", "sqlite", "git_commit"}


def bench(*args: str) -> subprocess.CompletedProcess:
    # -W error: a warning in a benchmark fails here as it would in the test suite
    return subprocess.run([sys.executable, "-W", "error", "-m", "bench", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_list_names_the_storage_benchmark():
    result = bench("--list")
    assert result.returncode == 0, result.stderr
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert "storage" in names
    assert "common" not in names


def test_unknown_benchmark_exits_2_naming_the_available_ones():
    result = bench("no_such_bench")
    assert result.returncode == 2
    assert "unknown benchmark 'no_such_bench'" in result.stderr
    assert "storage" in result.stderr
    assert result.stdout == ""


def test_missing_name_exits_2():
    assert bench().returncode == 2


def test_tiny_storage_run_on_sqlite_prints_one_json_line_per_figure():
    result = bench("storage", "--rows", "200", "--runs", "1", "--backend", "sqlite", "--single-inserts", "20",
                   "--lookups", "50")
    assert result.returncode == 0, result.stderr
    figures = [json.loads(line) for line in result.stdout.splitlines()]
    assert [f["op"] for f in figures] == ["bulk_insert", "single_insert", "lookup_email", "lookup_pk"]
    for figure in figures:
        assert FIGURE_KEYS <= figure.keys()
        assert MACHINE_KEYS <= figure["machine"].keys()
        assert (figure["bench"], figure["backend"], figure["runs"]) == ("storage", "sqlite", 1)
        assert figure["table_rows"] == 200
        assert figure["median_s"] > 0 and figure["per_s"] > 0
    assert [f["count"] for f in figures] == [200, 20, 50, 50]
    assert figures[0]["p95_ms"] is None
    assert all(f["p50_ms"] <= f["p95_ms"] <= f["p99_ms"] for f in figures[1:])
    assert figures[0]["config"]["journal_mode"] == "wal"


def test_storage_rejects_a_nonsense_size():
    result = bench("storage", "--rows", "0", "--backend", "sqlite")
    assert result.returncode == 2
    assert "--rows must be at least 1" in result.stderr


def test_percentile_interpolates_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(list(range(101)), 95) == 95
    assert median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)

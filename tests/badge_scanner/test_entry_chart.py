"""The dashboard's chart of entries per gate per quarter hour: one definition whose dataset the page replaces on each
poll, its gates named with their zone in the page's language."""

from __future__ import annotations

import pytest

from badge_scanner import entry_chart
from exhibit_crm import charts
from exhibit_crm.i18n import current_language

ENTRIES = {
    "day": "2026-03-10", "slots": ["09:00", "09:15", "09:30"],
    "gates": [{"id": 1, "name": "North Gate", "zone": "Hall 1", "zone_zh": "1号馆", "counts": [2, 1, 0]},
              {"id": 2, "name": "VIP Door", "zone": "VIP Lounge", "zone_zh": "", "counts": [0, 0, 1]}],
}


@pytest.fixture
def chinese():
    token = current_language.set("zh-CN")
    yield
    current_language.reset(token)


def test_one_row_per_quarter_hour_and_gate_in_time_order():
    assert entry_chart.rows(ENTRIES) == [
        {"slot": "09:00", "gate": "Hall 1 · North Gate", "entries": 2},
        {"slot": "09:00", "gate": "VIP Lounge · VIP Door", "entries": 0},
        {"slot": "09:15", "gate": "Hall 1 · North Gate", "entries": 1},
        {"slot": "09:15", "gate": "VIP Lounge · VIP Door", "entries": 0},
        {"slot": "09:30", "gate": "Hall 1 · North Gate", "entries": 0},
        {"slot": "09:30", "gate": "VIP Lounge · VIP Door", "entries": 1}]


def test_gates_are_named_with_their_zone_in_chinese_where_it_has_a_chinese_name(chinese):
    assert [row["gate"] for row in entry_chart.rows(ENTRIES)[:2]] == ["1号馆 · North Gate", "VIP Lounge · VIP Door"]


def test_the_definition_carries_its_rows_in_the_dataset_the_page_replaces(chinese):
    spec = entry_chart.definition(ENTRIES)
    assert spec["data"] == {"name": entry_chart.DATASET}
    assert spec["datasets"][entry_chart.DATASET] == entry_chart.rows(ENTRIES)
    assert spec["width"] == "container" and spec["config"]["font"] == charts.FONT
    assert spec["encoding"]["color"]["sort"] == ["1号馆 · North Gate", "VIP Lounge · VIP Door"]
    assert spec["encoding"]["y"]["title"] == "入场次数"


def test_the_same_definition_draws_on_the_server_with_its_chinese_legend(chinese):
    svg = charts.svg(entry_chart.definition(ENTRIES))
    assert ">1号馆 · North Gate</text>" in svg
    assert ">09:00</text>" in svg and ">09:15</text>" not in svg  # an hour's label under its first quarter only

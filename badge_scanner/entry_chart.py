"""The live dashboard's chart of entries per gate per quarter hour, as one Vega-Lite definition (exhibit_crm.charts).

The page draws the definition once; each poll then replaces the rows of its dataset `entries` (window.Charts.replace),
so the chart is defined here only. Its words are in the request's language, gates named with their zone's name in
that language, since a gate's name is unique only within its zone."""

from __future__ import annotations

import altair as alt

from exhibit_crm import charts
from exhibit_crm.i18n import current_language
from exhibit_crm.i18n import gettext as _

DATASET = "entries"
# an hour's label under its first quarter only, 68 would overlap; on a narrow screen only every other hour's
# ("greedy" drops a label that overlaps the one before, and the blank ones overlap nothing)
HOUR_LABELS = "substring(datum.value, 3) == '00' ? datum.value : ''"


def gate_label(gate: dict) -> str:
    """A gate as the chart names it: its zone in the page's language, then its own name."""
    zone = gate["zone_zh"] if current_language.get() == "zh-CN" and gate["zone_zh"] else gate["zone"]
    return f"{zone} · {gate['name']}"


def rows(entries: dict) -> list[dict]:
    """The dataset's rows from the dashboard's `entries` figure: one per quarter hour and gate, in time order."""
    labels = [gate_label(gate) for gate in entries["gates"]]
    return [{"slot": slot, "gate": label, "entries": gate["counts"][i]}
            for i, slot in enumerate(entries["slots"]) for gate, label in zip(entries["gates"], labels, strict=True)]


def definition(entries: dict) -> dict:
    """Stacked bars, one per quarter hour, a colour per gate, the gates in the dashboard's order."""
    gates = [gate_label(gate) for gate in entries["gates"]]
    chart = alt.Chart(alt.Data(name=DATASET)).mark_bar().encode(
        x=alt.X("slot:O", title=_("Time"), axis=alt.Axis(
            title=None, labelExpr=HOUR_LABELS, labelAngle=0, labelOverlap="greedy", labelSeparation=6, ticks=False)),
        # no axis titles: the section's heading says what the bars count, and a rotated Chinese title reads badly
        y=alt.Y("sum(entries):Q", title=_("Entries"), axis=alt.Axis(title=None, format="d", tickMinStep=1)),
        color=alt.Color("gate:N", title=_("Gate"), sort=gates),
        tooltip=[alt.Tooltip("slot:O", title=_("Time")), alt.Tooltip("gate:N", title=_("Gate")),
                 alt.Tooltip("sum(entries):Q", title=_("Entries"))],
    ).properties(datasets={DATASET: rows(entries)})
    return charts.spec(chart, width="container")

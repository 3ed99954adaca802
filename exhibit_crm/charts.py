"""The product's one charting library: a chart is a Vega-Lite definition, made with Altair in Python.

- `spec(chart)` turns an Altair chart into the definition with the project's look (a CJK font, a size, inline data
  only); it is plain JSON, the same for a page and for a file.
- `svg(spec)`, `png(spec)` and `pdf(spec)` draw it on the server (vl-convert, no browser), Chinese text included.
- In the browser, one script drawn from the same library versions, `bundle()`, served at the route
  `charts_js` (exhibit_crm/web/chart_script.py), draws every `<div class="chart" data-spec='…'>` of a page; the
  template `_chart.html` writes that div (`{% from "_chart.html" import chart %}{{ chart(spec, label) }}`), and
  the script's `window.Charts` (charts.js beside this file) lets a page's own script replace a chart's data.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

# Vega-Lite as Altair writes it (alt.SCHEMA_VERSION v6.4.x); vl-convert carries several and must draw this one
VL_VERSION = "6.4"
# Noto first so that rare characters (䶮) render on the server and on machines that have it; browsers without it
# fall back to their own Chinese fonts
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
FONT_DIR = Path("/usr/share/fonts/opentype/noto")  # Debian's fonts-noto-cjk, installed by .ci/setup
WIDTH, HEIGHT = 640, 260
# the pages' colours (static/app.css: --fg, --muted, --line)
LOOK = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#57606a", "titleColor": "#1b1f24",
             "domainColor": "#d0d7de", "tickColor": "#d0d7de", "gridColor": "#eaeef2"},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#1b1f24", "titleColor": "#1b1f24",
               "orient": "bottom", "direction": "horizontal"},
    "title": {"fontSize": 15, "anchor": "start", "color": "#1b1f24"},
}
LEGEND_COLUMN = 200  # pixels for one legend entry: a legend wraps into as many columns as the width holds
# compositions size their own views: Vega-Lite refuses a top-level width or "fit" for them
COMPOSED = ("hconcat", "vconcat", "concat", "facet", "repeat")
SNIPPET = Path(__file__).with_name("charts.js")


def spec(chart: alt.TopLevelMixin, *, width: int | str = WIDTH, height: int = HEIGHT) -> dict[str, Any]:
    """The chart's Vega-Lite definition with the project's look; `width="container"` fills the page's element."""
    definition = chart.to_dict()
    if not any(key in definition for key in COMPOSED):
        definition.setdefault("width", width)
        definition.setdefault("height", height)
        definition.setdefault("autosize", {"type": "fit", "contains": "padding"})
    definition["config"] = _config(definition.get("config", {}), width=definition.get("width", WIDTH))
    _refuse_remote_data(definition)
    return definition


def _config(own: dict[str, Any], *, width: int | str) -> dict[str, Any]:
    """The project's look under the chart's own settings, which win key by key."""
    look = {**LOOK, "legend": {**LOOK["legend"], "columns": _legend_columns(width)}}
    merged = {key: {**value, **own.get(key, {})} for key, value in look.items() if isinstance(value, dict)}
    return {**look, **own, **merged}


def _legend_columns(width: int | str) -> int | dict[str, str]:
    """As many legend columns as the width holds, so a long legend wraps instead of running off a phone: counted
    here for a fixed width (vl-convert, counting them itself, leaves the last row outside the picture), by vega as
    it draws for the page's width."""
    if isinstance(width, int):
        return max(1, width // LEGEND_COLUMN)
    return {"expr": f"max(1, floor(width / {LEGEND_COLUMN}))"}


def _refuse_remote_data(node: Any) -> None:
    """Charts carry their data inline: a page must not fetch from elsewhere, and a file must draw offline."""
    if isinstance(node, dict):
        if isinstance(node.get("data"), dict) and "url" in node["data"]:
            raise ValueError(f"a chart's data must be inline values, not the URL {node['data']['url']!r}")
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            _refuse_remote_data(item)


@functools.cache
def _fonts() -> None:
    """Let vl-convert find the CJK font, once per process; without it Chinese labels would silently go blank."""
    if not FONT_DIR.is_dir():
        raise RuntimeError(f"{FONT_DIR} is missing: install Debian's fonts-noto-cjk (bash .ci/setup)")
    vl_convert.register_font_directory(str(FONT_DIR))


def svg(definition: dict[str, Any]) -> str:
    """The chart as an SVG document."""
    _fonts()
    return vl_convert.vegalite_to_svg(definition, vl_version=VL_VERSION)


def png(definition: dict[str, Any], *, scale: float = 2) -> bytes:
    """The chart as a PNG image, `scale` pixels per CSS pixel (2 prints sharply)."""
    _fonts()
    return vl_convert.vegalite_to_png(definition, vl_version=VL_VERSION, scale=scale)


def pdf(definition: dict[str, Any]) -> bytes:
    """The chart as a one-page PDF with its text as text."""
    _fonts()
    return vl_convert.vegalite_to_pdf(definition, vl_version=VL_VERSION)


# The browser's script: its name changes with the libraries and the snippet, so browsers may keep it for a year.
BUNDLE_VERSION = hashlib.sha256(
    f"{version('vl-convert-python')} {VL_VERSION} ".encode() + SNIPPET.read_bytes()).hexdigest()[:12]
_bundle_lock = threading.Lock()


def bundle() -> str:
    """vega, vega-lite and vega-embed with charts.js as one script, built from the installed wheel once per process
    (about a second of CPU, so on first use rather than at every app's start)."""
    with _bundle_lock:  # two first requests at once must not both spend that second
        return _build_bundle()


@functools.cache
def _build_bundle() -> str:
    return vl_convert.javascript_bundle(SNIPPET.read_text(encoding="utf-8"), vl_version=VL_VERSION)

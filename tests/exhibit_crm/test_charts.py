"""Charts: an Altair chart becomes a Vega-Lite definition with the project's look and inline data, drawn on the
server as SVG, PNG and PDF with Chinese text, and in the browser by one script the app serves itself (drawing it is
tested in tests/browser/test_gate_browser.py)."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import altair as alt
import pandas as pd
import pytest
from PIL import Image

from exhibit_crm import charts
from exhibit_crm.web import chart_script
from exhibit_crm.web.templating import templates

CITIES = pd.DataFrame({"city": ["上海", "广州", "䶮城"], "visitors": [1200, 800, 40]})


def bar_chart() -> alt.Chart:
    return alt.Chart(CITIES).mark_bar().encode(x=alt.X("city:N", title="城市"), y="visitors:Q")


def test_a_spec_is_plain_json_with_inline_data_and_the_cjk_font():
    spec = charts.spec(bar_chart())
    assert json.loads(json.dumps(spec)) == spec
    assert spec["config"]["font"].startswith("Noto Sans CJK SC")
    (rows,) = spec["datasets"].values()
    assert [row["city"] for row in rows] == ["上海", "广州", "䶮城"]
    assert "url" not in spec["data"]
    assert (spec["width"], spec["height"], spec["autosize"]["type"]) == (charts.WIDTH, charts.HEIGHT, "fit")


def test_a_chart_keeps_its_own_size_and_settings():
    spec = charts.spec(bar_chart().properties(width=400).configure_axis(labelFontSize=20), height=100)
    assert (spec["width"], spec["height"]) == (400, 100)
    assert spec["config"]["axis"]["labelFontSize"] == 20 and spec["config"]["axis"]["labelColor"] == "#57606a"
    assert spec["config"]["font"] == charts.FONT and spec["config"]["view"]["stroke"] is None
    assert spec["config"]["legend"]["columns"] == 2  # as many as 400 pixels hold
    assert charts.spec(bar_chart(), width="container")["config"]["legend"]["columns"] == {
        "expr": "max(1, floor(width / 200))"}  # counted by vega for the page's width


def test_a_composition_sizes_its_own_views():
    spec = charts.spec(bar_chart() | bar_chart())
    assert "width" not in spec and "autosize" not in spec and spec["config"]["font"] == charts.FONT


def test_data_from_a_url_is_refused():
    with pytest.raises(ValueError, match="inline values"):
        charts.spec(alt.Chart("https://example.com/cities.json").mark_bar().encode(x="city:N"))
    layered = alt.layer(bar_chart(), alt.Chart(alt.UrlData("cities.csv")).mark_rule().encode(y="visitors:Q"))
    with pytest.raises(ValueError, match="cities.csv"):
        charts.spec(layered)


def test_svg_draws_the_chinese_labels():
    svg = charts.svg(charts.spec(bar_chart()))
    assert svg.startswith("<svg") and "上海" in svg and "䶮城" in svg and "城市" in svg
    assert 'font-family="Noto Sans CJK SC' in svg


def test_png_is_an_image_of_the_charts_size_at_twice_the_pixels():
    data = charts.png(charts.spec(bar_chart()))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.size == (charts.WIDTH * 2, charts.HEIGHT * 2)  # autosize "fit": the size asked for, axes included
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 10  # drawn, not a blank page


def test_pdf_is_a_pdf():
    assert charts.pdf(charts.spec(bar_chart())).startswith(b"%PDF-")


class _Attributes(HTMLParser):
    def handle_starttag(self, tag, attrs):
        self.found = dict(attrs)


def test_the_chart_macro_writes_the_spec_so_that_the_browser_reads_it_back_whole():
    spec = charts.spec(bar_chart().properties(title="It's <b>\"quoted\"</b> & 上海"))
    page = templates.env.from_string('{% from "_chart.html" import chart %}{{ chart(spec, "访客 & cities") }}')
    parser = _Attributes()
    parser.feed(page.render(spec=spec))
    assert parser.found["class"] == "chart" and parser.found["aria-label"] == "访客 & cities"
    assert json.loads(parser.found["data-spec"]) == spec


def test_the_script_is_served_compressed_and_kept_for_a_year(client):
    response = client.get(chart_script.PATH)  # the test client takes gzip, as browsers do
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["content-encoding"] == "gzip" and response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" not in response.headers and response.headers["x-content-type-options"] == "nosniff"
    assert "window.Charts" in response.text and int(response.headers["content-length"]) < len(response.content) / 2
    plain = client.get(chart_script.PATH, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == response.text


def test_the_scripts_address_names_its_version(client):
    assert charts.BUNDLE_VERSION in chart_script.PATH
    assert client.get("/static/charts-000000000000.js").status_code == 404  # an old name is not served stale

"""The edition report's charts, one Vega-Lite definition each (built with Altair, finished by exhibit_crm.charts):
the page draws them in the browser and the PDF embeds the same definitions rendered to PNG. Labels are in the
reader's language; the data are the report's own figures."""

from __future__ import annotations

import altair as alt

from exhibit_crm import charts
from exhibit_crm.i18n import N_, translations

from .report_tables import SOURCES

TOP_PLACES = 12  # countries and provinces shown in their charts, the most attended first


def _source(rows: list[dict]) -> alt.Data:
    return alt.Data(values=rows)


def arrivals(report: dict, _) -> alt.Chart | None:
    """Arrivals by hour, one line a show day."""
    rows = [{"day": day["day"], "hour": hour["hour"], "arrivals": hour["arrivals"]}
            for day in report["visitors"]["by_day"] for hour in day["by_hour"]]
    if not rows:
        return None
    return alt.Chart(_source(rows)).mark_line(point=True).encode(
        x=alt.X("hour:O", title=_("Hour")), y=alt.Y("arrivals:Q", title=_("Arrivals")),
        color=alt.Color("day:N", title=_("Day")))


def registration_curves(report: dict, _) -> alt.Chart | None:
    """Visitors registered by days before opening, this edition and the previous one."""
    rows = [{"days_before": point["days_before"], "registered": point["registered"], "edition": str(curve["year"])}
            for curve in report["registration_curves"] for point in curve["points"]]
    if not any(row["registered"] for row in rows):
        return None
    return alt.Chart(_source(rows)).mark_line().encode(
        x=alt.X("days_before:Q", title=_("Days before opening"), scale=alt.Scale(reverse=True)),
        y=alt.Y("registered:Q", title=_("Registered")), color=alt.Color("edition:N", title=_("Edition")))


def by_source(report: dict, _) -> alt.Chart | None:
    """Registered and attended visitors by registration source."""
    rows = [{"source": _(SOURCES[row["source"]]), "figure": _(label), "visitors": row[key]}
            for row in report["visitors"]["by_source"] for key, label in (("registered", N_("Registered")),
                                                                          ("attended", N_("Attended")))]
    if not any(row["visitors"] for row in rows):
        return None
    return alt.Chart(_source(rows)).mark_bar().encode(
        x=alt.X("source:N", sort=None, title=_("Source")), xOffset=alt.XOffset("figure:N", sort=None),
        y=alt.Y("visitors:Q", title=_("Visitors")), color=alt.Color("figure:N", sort=None, title=None))


def return_and_rebooking(report: dict, _) -> alt.Chart | None:
    """The previous edition's visitors and exhibitors who came back, as shares."""
    previous = report["previous_edition"]
    if previous is None:
        return None
    rows = [{"figure": _(label), "share": previous[key] or 0} for key, label in (
        ("visitor_return_rate", N_("Visitors registered again")),
        ("return_attendance_rate", N_("Visitors who came again")),
        ("rebooking_rate", N_("Exhibitors rebooked")), ("rebooking_rate_sqm", N_("Net space rebooked")))]
    return alt.Chart(_source(rows)).mark_bar().encode(
        y=alt.Y("figure:N", sort=None, title=None),
        x=alt.X("share:Q", title=_("Share"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])))


def _places(report: dict, _, key: str, label: str) -> alt.Chart | None:
    rows = [{"place": row[key] or _("unknown"), "attended": row["attended"]}
            for row in report["visitors"][f"by_{key}"][:TOP_PLACES] if row["attended"]]
    if not rows:
        return None
    return alt.Chart(_source(rows)).mark_bar().encode(
        y=alt.Y("place:N", sort="-x", title=_(label)), x=alt.X("attended:Q", title=_("Attended")))


def by_country(report: dict, _) -> alt.Chart | None:
    """Attended visitors by country, the most first."""
    return _places(report, _, "country", N_("Country"))


def by_province(report: dict, _) -> alt.Chart | None:
    """Attended visitors from the home country by province, the most first."""
    return _places(report, _, "province", N_("Province"))


CHARTS = (("arrivals", N_("Arrivals by hour"), arrivals),
          ("registration_curves", N_("Registrations before opening"), registration_curves),
          ("by_source", N_("Attendance by registration source"), by_source),
          ("return_and_rebooking", N_("Return and rebooking"), return_and_rebooking),
          ("by_country", N_("Visitors by country"), by_country),
          ("by_province", N_("Visitors by province"), by_province))


def specs(report: dict, *, language: str = "zh-CN", width: int | str = charts.WIDTH) -> list[dict]:
    """The report's charts as Vega-Lite definitions: [{"name", "title", "spec"}], those without data left out; a
    page gives `width="container"` so that each chart fills its box."""
    _ = translations(language).gettext
    found = []
    for name, title, make in CHARTS:
        chart = make(report, _)
        if chart is not None:
            found.append({"name": name, "title": title, "spec": charts.spec(chart, width=width)})
    return found


def images(report: dict, *, language: str = "zh-CN") -> list[tuple[str, bytes]]:
    """The same charts as PNG images for the PDF: (title, png)."""
    return [(chart["title"], charts.png(chart["spec"])) for chart in specs(report, language=language)]

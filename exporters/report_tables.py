"""The edition report (event_phases.post_show.statistics) as tables: one per part of the report, in the reader's
language, for the XLSX workbook (one sheet a table), the PDF and the page; and the churn list on its own as CSV or
XLSX for sales. The report arrives as the plain dict the statistics build; nothing here reads the database."""

from __future__ import annotations

from exhibit_crm.i18n import N_, translations

from .tables import Column, ListTable, workbook

FIGURES = {
    "visitors.registered": N_("Visitors registered"), "visitors.attended": N_("Visitors attended"),
    "visitors.no_shows": N_("No-shows"), "visitors.walk_ins": N_("Walk-ins"), "visitors.visits": N_("Visits"),
    "visitors.repeat_visitors": N_("Came on more than one day"), "visitors.returning": N_("Returning visitors"),
    "visitors.first_time": N_("First-time visitors"), "exhibitors.count": N_("Exhibitors"),
    "exhibitors.arrived": N_("Exhibitors arrived at move-in"), "exhibitors.net_sqm": N_("Net space (m²)"),
}
TARGETS = {"visitors": N_("Visitors"), "trade_visitors": N_("Trade visitors"), "exhibitors": N_("Exhibitors"),
           "net_sqm": N_("Net space (m²)"), "rebooking_rate": N_("Rebooking rate (%)")}
SOURCES = {"online": N_("Online"), "import": N_("Import"), "walk_in": N_("Walk-in"), "invitation": N_("Invitation"),
           "third_party": N_("Third party")}
AUDIENCES = {"trade_visitor": N_("Trade visitor"), "public_visitor": N_("Public visitor"),
             "exhibitor_staff": N_("Exhibitor staff"), "press": N_("Press"), "organiser": N_("Organiser")}
INTERNATIONAL = {"exhibitors": N_("Overseas exhibitors"), "visitors": N_("Overseas visitors"),
                 "net_sqm": N_("Overseas net space")}


class ReportTables:
    """The report's tables in one language."""

    def __init__(self, report: dict, *, language: str = "en"):
        self.report, self.language = report, language
        self._ = translations(language).gettext
        self.zh = language == "zh-CN"

    def name(self, row: dict, key: str = "name") -> str:
        """A row's Chinese name on Chinese pages where it has one, else its name."""
        return (row.get(f"{key}_zh") if self.zh else "") or row.get(key) or ""

    def _table(self, title: str, columns: list[tuple[str, str]], rows) -> ListTable:
        return ListTable(self._(title), [Column(self._(name), kind, 24 if kind == "text" else 14)
                                         for name, kind in columns], rows)

    def all(self) -> list[ListTable]:
        """Every table of the report, in the order the files show them."""
        tables = (self.summary(), self.targets(), *self.details(), self.churn(), self.churn("next_edition"))
        return [table for table in tables if table is not None]

    def details(self) -> list[ListTable]:
        """The tables a page shows below its figures: all but the summary, the targets and the churn list, which the
        page shows in its own way."""
        tables = (self.by_badge_type(), self.by_source(), self.by_day(), self.arrivals(), self.by_gate(),
                  self.by_country(), self.by_province(), self.by_answer(), self.other_badges(), self.occupancy(),
                  self.by_hall(), self.by_category(), self.international(), self.rebooking())
        return [table for table in tables if table is not None]

    def summary(self) -> ListTable:
        previous = {row["figure"]: row for row in (self.report["previous_edition"] or {}).get("figures", [])}
        rows = []
        for key, label in FIGURES.items():
            section, name = key.split(".")
            now, before = self.report[section][name], previous.get(key, {})
            rows.append((self._(label), now, before.get("previous"), before.get("change"), before.get("change_rate")))
        return self._table(N_("Summary"), [(N_("Figure"), "text"), (N_("This edition"), "number"),
                                           (N_("Previous edition"), "number"), (N_("Change"), "number"),
                                           (N_("Change rate"), "percent")], rows)

    def targets(self) -> ListTable | None:
        targets = self.report.get("targets") or {}
        rows = [(self._(TARGETS[key]), *(_percent(row.get(name)) if key == "rebooking_rate" else row.get(name)
                                          for name in ("target", "actual", "gap")))
                for key, row in targets.items() if key in TARGETS and isinstance(row, dict)]
        return self._table(N_("Targets"), [(N_("Figure"), "text"), (N_("Target"), "number"), (N_("Actual"), "number"),
                                           (N_("Gap"), "number")], rows) if rows else None

    def _attendance(self, title: str, first: str, rows) -> ListTable:
        return self._table(title, [(first, "text"), (N_("Registered"), "number"), (N_("Attended"), "number"),
                                   (N_("Conversion"), "percent")], rows)

    def by_badge_type(self) -> ListTable:
        rows = [(self.name(row), self._(AUDIENCES[row["audience"]]), row["registered"], row["attended"],
                 row["conversion"]) for row in self.report["visitors"]["by_badge_type"]]
        return self._table(N_("Visitors by badge type"), [
            (N_("Badge type"), "text"), (N_("Audience"), "text"), (N_("Registered"), "number"),
            (N_("Attended"), "number"), (N_("Conversion"), "percent")], rows)

    def by_source(self) -> ListTable:
        return self._attendance(N_("Visitors by registration source"), N_("Source"), [
            (self._(SOURCES[row["source"]]), row["registered"], row["attended"], row["conversion"])
            for row in self.report["visitors"]["by_source"]])

    def by_day(self) -> ListTable:
        return self._table(N_("Visitors by day"), [(N_("Day"), "text"), (N_("Visitors"), "number"),
                                                   (N_("First visits"), "number")],
                           [(row["day"], row["visitors"], row["first_visits"])
                            for row in self.report["visitors"]["by_day"]])

    def arrivals(self) -> ListTable:
        return self._table(N_("Arrivals by hour"), [(N_("Day"), "text"), (N_("Hour"), "number"),
                                                    (N_("Arrivals"), "number")],
                           [(day["day"], hour["hour"], hour["arrivals"]) for day in self.report["visitors"]["by_day"]
                            for hour in day["by_hour"]])

    def by_gate(self) -> ListTable:
        return self._table(N_("Entries by gate"), [(N_("Gate"), "text"), (N_("Zone"), "text"),
                                                   (N_("Entries"), "number"), (N_("Visitors"), "number")],
                           [(row["gate"], self.name(row, "zone"), row["entries"], row["visitors"])
                            for row in self.report["visitors"]["by_gate"]])

    def by_country(self) -> ListTable:
        return self._attendance(N_("Visitors by country"), N_("Country"), [
            (row["country"] or self._("unknown"), row["registered"], row["attended"], row["conversion"])
            for row in self.report["visitors"]["by_country"]])

    def by_province(self) -> ListTable:
        return self._attendance(N_("Visitors by province"), N_("Province"), [
            (row["province"] or self._("unknown"), row["registered"], row["attended"], row["conversion"])
            for row in self.report["visitors"]["by_province"]])

    def by_answer(self) -> ListTable:
        rows = [(self.name(question, "label"), self.name(option, "label") or option["value"], option["registered"],
                 option["attended"]) for question in self.report["visitors"]["by_answer"]
                for option in question["options"]]
        return self._table(N_("Visitors by answer"), [(N_("Question"), "text"), (N_("Answer"), "text"),
                                                      (N_("Registered"), "number"), (N_("Attended"), "number")], rows)

    def other_badges(self) -> ListTable:
        return self._table(N_("Other badges (not visitors)"), [
            (N_("Badge type"), "text"), (N_("Audience"), "text"), (N_("Registered"), "number"),
            (N_("Attended"), "number")], [(self.name(row), self._(AUDIENCES[row["audience"]]), row["registered"],
                                           row["attended"]) for row in self.report["other_badges"]])

    def occupancy(self) -> ListTable:
        return self._table(N_("Peak occupancy"), [(N_("Zone"), "text"), (N_("Day"), "text"),
                                                  (N_("Most inside at once"), "number"), (N_("At"), "text")],
                           [(self.name(row, "zone"), row["day"], row["peak"], row["at"])
                            for row in self.report["occupancy"]])

    def by_hall(self) -> ListTable:
        return self._table(N_("Exhibitors by hall"), [(N_("Hall"), "text"), (N_("Exhibitors"), "number"),
                                                      (N_("Net space (m²)"), "number")],
                           [(row["hall"] or self._("no booth yet"), row["exhibitors"], row["sqm"])
                            for row in self.report["exhibitors"]["by_hall"]])

    def by_category(self) -> ListTable:
        return self._table(N_("Exhibitors by product category"), [
            (N_("Category"), "text"), (N_("Exhibitors"), "number"), (N_("Net space (m²)"), "number")],
            [(self.name(row), row["exhibitors"], row["sqm"]) for row in self.report["exhibitors"]["by_category"]])

    def international(self) -> ListTable:
        test = self.report["international"]
        return self._table(N_("International (GB/T 26165)"), [
            (N_("Figure"), "text"), (N_("Share"), "percent"), (N_("Threshold"), "percent"), (N_("Met"), "bool")],
            [(self._(label), test[key]["share"], test[key]["threshold"], test[key]["met"])
             for key, label in INTERNATIONAL.items()])

    def rebooking(self) -> ListTable | None:
        previous = self.report["previous_edition"]
        if previous is None:
            return None
        return self._table(N_("Rebooking by booth size"), [
            (N_("Booth size (m²)"), "text"), (N_("Previous edition"), "number"), (N_("Rebooked"), "number"),
            (N_("Rate"), "percent")], [(row["band"], row["previous"], row["rebooked"], row["rate"])
                                      for row in previous["by_size_band"]])

    def churn(self, side: str = "previous_edition") -> ListTable | None:
        """The churn list: the previous edition's exhibitors without a booking in this one (`side="next_edition"`:
        this edition's exhibitors without a booking in the next one yet), with their people."""
        previous = self.report.get(side)
        if previous is None:
            return None
        rows = [(row["company"], row["country"], row["hall"], row["booth"], row["sqm"], row["leads"],
                 row["hot_leads"], ", ".join(row["categories"]),
                 "; ".join(f"{p['name']} <{p['email']}>" for p in row["people"])) for row in previous["churned"]]
        title = N_("Churn list") if side == "previous_edition" else N_("Not yet rebooked")
        return self._table(title, [
            (N_("Company"), "text"), (N_("Country"), "text"), (N_("Hall"), "text"), (N_("Booth"), "text"),
            (N_("Net space (m²)"), "number"), (N_("Leads received"), "number"), (N_("Hot leads"), "number"),
            (N_("Categories"), "text"), (N_("People"), "text")], rows)


def report_xlsx(report: dict, *, language: str = "en") -> bytes:
    """The whole report as an XLSX workbook, one sheet a table."""
    return workbook(ReportTables(report, language=language).all())


def _percent(share: float | None) -> float | None:
    """A share as percentage points, beside counts in a table of numbers (0.65 → 65.0)."""
    return None if share is None else round(share * 100, 2)


def attendee_table(rows: list[dict], days: list[str], *, language: str = "en") -> ListTable:
    """The attendee list: one row per attended visitor, a column per show day with their first entry that day."""
    _ = translations(language).gettext
    columns = [Column(_(title), "text", 20) for title in (
        N_("Name"), N_("Company"), N_("Title"), N_("E-mail"), N_("Phone"), N_("Country"), N_("Province"), N_("City"),
        N_("Badge type"), N_("Source"))] + [Column(day, "datetime", 18) for day in days]
    return ListTable(_("Attendees"), columns, [
        (row["full_name"], row["company"], row["title"], row["email"], row["phone"], row["country"], row["province"],
         row["city"], row["badge_type"], _(SOURCES.get(row["source"], row["source"])),
         *(row["days"].get(day) for day in days)) for row in rows])

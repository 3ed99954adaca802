"""The edition report on the hand-built show of tests/event_phases/post_show/show.py, on SQLite and PostgreSQL.
Every expected figure below was counted by hand from the table in that module's docstring."""

from __future__ import annotations

from datetime import date

import pytest

from event_phases.post_show.statistics.report import edition_report
from exhibit_crm.errors import NotFound
from tests import factories

from . import show


@pytest.fixture
def built(session):
    return show.build(session)


@pytest.fixture
def report(session, built):
    return edition_report(session, edition_id=built["this"], now=show.at(date(2026, 3, 20), "12:00"))


def test_visitor_headline_figures(report):
    visitors = report["visitors"]
    # registered: P1 P2 P3 P4 P5 P7 (P6 cancelled; P8 staff and P9 press are not visitors)
    assert visitors["registered"] == 6
    assert visitors["attended"] == 4  # P1 P2 P3 P4; P7's accepted scan was on the move-in day
    assert visitors["no_shows"] == 2  # P5 P7
    assert visitors["walk_ins"] == 2  # P3 (online on day 2) and P4 (desk on day 3)
    assert visitors["visits"] == 5  # P1 twice (two entries on day 1 are one visit), P2, P3, P4
    assert visitors["repeat_visitors"] == 1  # P1
    assert visitors["trade"] == {"registered": 5, "attended": 3}  # the VIP buyer is a trade visitor
    assert visitors["public"] == {"registered": 1, "attended": 1}
    assert (visitors["returning"], visitors["first_time"]) == (1, 3)  # P1 came in 2025


def test_visitors_by_badge_type_and_source(report):
    by_type = {row["code"]: (row["registered"], row["attended"], row["conversion"])
               for row in report["visitors"]["by_badge_type"]}
    assert by_type == {"trade_visitor": (4, 2, 0.5), "public_visitor": (1, 1, 1.0), "vip_buyer": (1, 1, 1.0)}
    by_source = {row["source"]: (row["registered"], row["attended"], row["conversion"])
                 for row in report["visitors"]["by_source"]}
    assert by_source == {"online": (3, 2, 0.6667), "import": (1, 0, 0.0), "walk_in": (1, 1, 1.0),
                         "invitation": (1, 1, 1.0), "third_party": (0, 0, None)}
    others = {row["code"]: (row["registered"], row["attended"]) for row in report["other_badges"]}
    assert others == {"exhibitor_staff": (1, 1), "press": (1, 1)}


def test_visitors_by_day_hour_and_gate(report):
    assert report["visitors"]["by_day"] == [
        {"day": "2026-03-10", "visitors": 2, "first_visits": 2,
         "by_hour": [{"hour": 9, "arrivals": 1}, {"hour": 11, "arrivals": 1}]},
        {"day": "2026-03-11", "visitors": 2, "first_visits": 1,
         "by_hour": [{"hour": 9, "arrivals": 1}, {"hour": 10, "arrivals": 1}]},
        {"day": "2026-03-12", "visitors": 1, "first_visits": 1, "by_hour": [{"hour": 9, "arrivals": 1}]}]
    gates = {row["gate"]: (row["entries"], row["visitors"]) for row in report["visitors"]["by_gate"]}
    assert gates == {"Gate A": (3, 2), "Gate B": (2, 2), "Gate L": (1, 1)}


def test_visitors_by_origin_and_answer(report):
    visitors = report["visitors"]
    assert [(row["country"], row["registered"], row["attended"]) for row in visitors["by_country"]] == [
        ("CN", 4, 3), ("DE", 1, 1), ("US", 1, 0)]
    assert [(row["province"], row["registered"], row["attended"]) for row in visitors["by_province"]] == [
        ("上海市", 2, 2), ("广东省", 1, 1), ("浙江省", 1, 0), ("", 0, 0)]
    [interests] = visitors["by_answer"]
    assert [(o["value"], o["registered"], o["attended"]) for o in interests["options"]] == [
        ("sofas", 2, 2), ("beds", 2, 2), ("lighting", 1, 0)]


def test_peak_occupancy_counts_every_badge(report):
    peaks = {(row["zone"], row["day"]): (row["peak"], row["at"]) for row in report["occupancy"]}
    # Hall 1 on day 1: P8 08:30, P1 09:10, P9 09:15 → 3; P1 out at 10:00 and back at 10:30 → 3 again
    assert peaks == {("Hall 1", "2026-03-10"): (3, "09:15"), ("Hall 1", "2026-03-11"): (2, "10:20"),
                     ("Hall 1", "2026-03-12"): (1, "09:40"), ("Lounge", "2026-03-10"): (1, "11:00")}


def test_exhibitor_figures(report):
    exhibitors = report["exhibitors"]
    assert (exhibitors["count"], exhibitors["arrived"], exhibitors["net_sqm"]) == (2, 1, 54.0)  # X cancelled
    assert [(row["hall"], row["exhibitors"], row["sqm"]) for row in exhibitors["by_hall"]] == [
        ("N1", 1, 36.0), ("N2", 1, 18.0)]
    assert {row["category"]: (row["exhibitors"], row["sqm"]) for row in exhibitors["by_category"]} == {
        "sofas": (1, 36.0), "beds": (1, 36.0), "lighting": (1, 18.0)}
    assert exhibitors["domestic"] == {"exhibitors": 1, "sqm": 36.0}
    assert exhibitors["overseas"] == {"exhibitors": 1, "sqm": 18.0}
    # 华美 3 leads (1 hot), Acme none: median of [3, 0] is 1.5, the 90th percentile 0 + 0.9 × 3
    assert exhibitors["leads"] == {"total": 3, "median": 1.5, "p90": 2.7, "share_without": 0.5, "hot": 1}


def test_international_test_of_gb_t_26165(report):
    international = report["international"]
    assert international["exhibitors"] == {"share": 0.5, "threshold": 0.1, "met": True}  # Acme of two
    assert international["visitors"] == {"share": 0.25, "threshold": 0.05, "met": True}  # Anna of four attended
    assert international["net_sqm"] == {"share": 0.3333, "threshold": 0.2, "met": True}  # 18 of 54 m²
    assert international["international"] is True


def test_comparison_with_the_previous_edition(report, built):
    previous = report["previous_edition"]
    assert (previous["id"], previous["year"]) == (built["past"], 2025)
    # 2025 attended: P1 P5 P10; registered again for 2026: P1 P5; came again: P1
    assert (previous["returning_visitors"], previous["visitor_return_rate"]) == (2, 0.6667)
    assert (previous["returning_attended"], previous["return_attendance_rate"]) == (1, 0.3333)
    # 2025 exhibitors not cancelled: 华美 24 m², 老客 100 m², X 50 m²; only 华美 booked 2026 (X cancelled)
    assert (previous["rebooked"], previous["rebooking_rate"]) == (1, 0.3333)
    assert (previous["rebooked_sqm"], previous["rebooking_rate_sqm"]) == (24.0, 0.1379)
    assert [(band["band"], band["previous"], band["rebooked"]) for band in previous["by_size_band"]] == [
        ("≤18", 0, 0), ("18–36", 1, 1), ("36–72", 1, 0), ("72–144", 1, 0), (">144", 0, 0)]
    assert [(row["company"], row["sqm"], row["leads"], row["hot_leads"]) for row in previous["churned"]] == [
        ("老客", 100.0, 2, 1), ("X", 50.0, 0, 0)]
    assert previous["churned"][0]["people"] == [{"name": "刘经理", "email": "laoke@show.example"}]
    figures = {row["figure"]: (row["this"], row["previous"], row["change"]) for row in previous["figures"]}
    # 2025: P1 P5 P10 P11 registered, P1 P5 P10 attended
    assert figures["visitors.registered"] == (6, 4, 2)
    assert figures["visitors.attended"] == (4, 3, 1)
    assert figures["exhibitors.net_sqm"] == (54.0, 174.0, -120.0)


def test_past_edition_has_no_previous_and_says_so(session, built):
    report = edition_report(session, edition_id=built["past"], now=show.at(date(2026, 3, 20), "12:00"))
    assert report["previous_edition"] is None
    assert "no_previous_edition" in report["notes"]
    assert (report["visitors"]["attended"], report["visitors"]["walk_ins"]) == (3, 1)  # P10 registered on day 1


def test_forecast_before_opening(session, built):
    # 1 March 2026, 9 days 9 hours before opening → 10 days before. Registered then in 2026: P1 P2 P5 P7 (P6
    # cancelled on 15 Feb). In 2025 ten days before opening: P1 P5 P11 registered, P1 P5 P10 attended → ratio 1.
    report = edition_report(session, edition_id=built["this"], now=show.at(date(2026, 3, 1), "00:00"))
    forecast = report["forecast"]
    assert (forecast["days_before"], forecast["registered_so_far"], forecast["ratio"]) == (10, 4, 1.0)
    assert forecast["forecast_attended"] == 4
    assert forecast["error"] is None  # one earlier edition: nothing to measure the error on
    curve = {point["days_before"]: point["registered"] for point in report["registration_curves"][0]["points"]}
    # 55 days before opening (14 Jan 09:00) P5 alone; at opening P1 P2 P5 P7 (P3 and P4 registered during the show)
    assert (curve[60], curve[55], curve[0]) == (0, 1, 4)


def test_forecast_is_none_once_the_show_opened(report):
    assert report["forecast"] is None


def test_an_edition_without_scans_says_so(session):
    ed = factories.edition(session)
    report = edition_report(session, edition_id=ed.id, now=show.at(date(2026, 3, 20), "12:00"))
    assert {"no_scans", "no_previous_edition"} <= set(report["notes"])
    assert report["visitors"]["attended"] == 0 and report["occupancy"] == []


def test_an_unknown_edition_is_not_found(session):
    with pytest.raises(NotFound):
        edition_report(session, edition_id=999_999, now=show.at(date(2026, 3, 20), "12:00"))


def test_targets_against_the_actual_figures(session, built):
    from event_phases.post_show.targets import set_targets
    from exhibit_crm import audit

    set_targets(session, edition_id=built["this"], data={"visitors": 5, "exhibitors": 2, "rebooking_rate": 0.5},
                actor=audit.CLI)
    session.commit()
    report = edition_report(session, edition_id=built["this"], now=show.at(date(2026, 3, 20), "12:00"))
    targets = report["targets"]
    assert (targets["visitors"]["target"], targets["visitors"]["actual"], targets["visitors"]["gap"]) == (5, 4, -1)
    assert targets["visitors"]["reached"] is False and targets["exhibitors"]["reached"] is True
    assert (targets["rebooking_rate"]["actual"], targets["rebooking_rate"]["reached"]) == (0.3333, False)
    assert targets["net_sqm"]["target"] is None and targets["net_sqm"]["gap"] is None
    assert "no_targets" not in report["notes"]


def test_no_targets_is_said(report):
    assert "no_targets" in report["notes"]


def test_the_report_is_strict_json(report, session, built):
    import json

    past = edition_report(session, edition_id=built["past"], now=show.at(date(2026, 3, 1), "00:00"))
    for one in (report, past):
        # no NaN or infinity from pandas (a row of zeros has no conversion rate): strict JSON gives the report back
        assert json.loads(json.dumps(one, allow_nan=False)) == one


def test_the_past_edition_lists_who_has_not_booked_the_next_one(session, built):
    report = edition_report(session, edition_id=built["past"], now=show.at(date(2026, 3, 20), "12:00"))
    following = report["next_edition"]
    assert (following["year"], following["rebooked"], following["rebooking_rate"]) == (2026, 1, 0.3333)
    assert [row["company"] for row in following["churned"]] == ["老客", "X"]  # X's 2026 booking is cancelled


def test_the_latest_edition_has_no_next(report):
    assert report["next_edition"] is None

"""Lead figures, the same for the booth dashboard and the lead report: by rating, by local day, by staff member."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from badge_scanner.codes import load_signer
from badge_scanner.leads import BoothScan, lead_figures, scan_lead
from exhibit_crm.models import ExhibitorUser
from tests import factories

# 2026-03-10 10:00 and 2026-03-11 01:30 in Shanghai (the second is still the 10th in UTC)
FIRST, SECOND = datetime(2026, 3, 10, 2, 0, tzinfo=UTC), datetime(2026, 3, 10, 17, 30, tzinfo=UTC)


@pytest.fixture
def show(session, tmp_path):
    """Three leads of one staff member (two hot, one on each local day and one more), a fourth scan of the first
    visitor, a rejected scan, and a second staff member who scanned nothing."""
    ed = factories.edition(session)
    ours = factories.exhibitor_user(session, ed)
    session.add(ExhibitorUser(exhibitor_id=ours.exhibitor_id, email="idle@huamei.example.cn", name="闲人"))
    signer = load_signer(tmp_path / "data")
    visitors = [factories.registration(session, ed, full_name=name) for name in ("王伟", "李娜", "张敏")]
    for n, (visitor, rating, when) in enumerate(zip(visitors, ("hot", "hot", None), (FIRST, SECOND, SECOND),
                                                    strict=True)):
        scan_lead(session, exhibitor_id=ours.exhibitor_id, user_id=ours.id, verifier=signer.verifier, now=when,
                  scan=BoothScan(code=signer.sign(visitor.id, 1), scan_id=f"s-{n}", rating=rating))
    for scan_id, code in (("again", signer.sign(visitors[0].id, 1)), ("forged", "NOT-A-CODE")):
        scan_lead(session, exhibitor_id=ours.exhibitor_id, user_id=ours.id, verifier=signer.verifier, now=SECOND,
                  scan=BoothScan(code=code, scan_id=scan_id))
    session.commit()
    return ours


def test_the_figures_count_by_rating_local_day_and_staff(session, show):
    found = lead_figures(session, exhibitor_id=show.exhibitor_id)
    assert found.leads == 3
    assert found.by_rating == {"hot": 2, "warm": 0, "cold": 0, "unrated": 1}
    assert [(day.isoformat(), counts) for day, counts in found.by_day] == [
        ("2026-03-10", {"hot": 1, "warm": 0, "cold": 0, "unrated": 0}),
        ("2026-03-11", {"hot": 1, "warm": 0, "cold": 0, "unrated": 1})]
    assert found.by_staff == [("陈静", 4, 3)]


def test_an_exhibitor_without_leads_has_empty_figures(session):
    ours = factories.exhibitor_user(session, factories.edition(session))
    found = lead_figures(session, exhibitor_id=ours.exhibitor_id)
    assert (found.leads, found.by_day, found.by_staff) == (0, [], [])
    assert found.by_rating == {"hot": 0, "warm": 0, "cold": 0, "unrated": 0}

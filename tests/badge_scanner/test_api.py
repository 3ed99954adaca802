"""The scanner API over HTTP: tokens, single scans, offline batches and the snapshot."""

from __future__ import annotations

import base64
import json
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from badge_scanner import api, codes, issued_badges, uploads
from badge_scanner.codes import Signer, load_signer
from exhibit_crm import audit, auth
from exhibit_crm.models import BadgeType, Gate, GateDevice, Presence, Scan, Zone, ZoneAccess
from exhibit_crm.models.types import utcnow
from tests import factories

OPEN = "2026-03-10T11:00:00+08:00"


@pytest.fixture
def show(session, settings):
    """An edition whose Hall 1 (free) admits trade visitors every day, a device at its gate, and one visitor."""
    ed = factories.edition(session)
    hall = session.exec(select(Zone).where(Zone.edition_id == ed.id, Zone.name == "Hall 1")).one()
    trade = session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id,
                                                 BadgeType.code == "trade_visitor")).one()
    session.add(ZoneAccess(zone_id=hall.id, badge_type_id=trade.id))
    gate = session.exec(select(Gate).where(Gate.zone_id == hall.id)).one()
    token, device = auth.create_device(session, gate_id=gate.id, name="Hall 1 scanner")
    session.commit()
    reg = factories.registration(session, ed, full_name="王伟", company="广州华美家居有限公司")
    code = load_signer(settings.data_dir).sign(reg.id, 1)
    return {"edition": ed, "token": token, "device": device, "code": code, "registration": reg, "gate": gate,
            "signer": load_signer(settings.data_dir)}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def scan_body(code: str, scan_id: str = "s1", **extra) -> dict:
    return {"code": code, "direction": "in", "scan_id": scan_id, "scanned_at": OPEN, **extra}


def test_a_device_scans_a_badge_in(client, show, db):
    response = client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(show["token"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"scan_id": "s1", "verdict": "accepted", "reason": None,
                               "person": {"name": "王伟", "company": "广州华美家居有限公司",
                                          "badge_type": "trade_visitor"}}
    rows = db(lambda s: s.exec(select(Scan.scan_id, Scan.verdict, Scan.scanned_at)).all())
    assert rows == [("s1", "accepted", datetime(2026, 3, 10, 3, tzinfo=UTC))]
    assert db(lambda s: s.get(GateDevice, show["device"].id).last_seen_at) is not None


def test_a_forged_code_is_rejected_and_recorded(client, show, db):
    response = client.post("/api/v1/scans", json=scan_body("Z" * 116), headers=bearer(show["token"]))
    assert response.json() == {"scan_id": "s1", "verdict": "rejected", "reason": "invalid_code", "person": None}
    assert db(lambda s: s.exec(select(Scan.reason)).all()) == ["invalid_code"]


def test_a_resent_scan_gets_the_same_answer(client, show, db):
    first = client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(show["token"])).json()
    again = client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(show["token"])).json()
    assert again == first
    assert len(db(lambda s: s.exec(select(Scan)).all())) == 1


def test_without_scanned_at_the_server_clock_is_the_scan_time(client, show, db):
    body = scan_body(show["code"])
    del body["scanned_at"]
    before = utcnow()
    client.post("/api/v1/scans", json=body, headers=bearer(show["token"]))
    scanned, received = db(lambda s: s.exec(select(Scan.scanned_at, Scan.received_at)).one())
    assert before <= scanned == received <= utcnow()


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401), ({"Authorization": "Bearer ecd_not-a-token"}, 401), ({"Authorization": "Basic abc"}, 401)])
@pytest.mark.parametrize("path", ["/api/v1/scans", "/api/v1/scans/batch", "/api/v1/scanner/snapshot"])
def test_without_a_valid_device_token_nothing_leaks(client, show, headers, status, path):
    response = (client.get(path, headers=headers) if path.endswith("snapshot")
                else client.post(path, json=scan_body(show["code"]), headers=headers))
    assert response.status_code == status
    assert response.json()["error"] == "unauthorized"
    assert "王伟" not in response.text


def test_a_revoked_device_token_is_refused(client, show, session):
    device = session.get(GateDevice, show["device"].id)
    device.revoked_at = utcnow()
    session.add(device)
    session.commit()
    response = client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(show["token"]))
    assert response.status_code == 401


def test_a_device_revoked_while_in_use_is_refused_once_the_token_cache_time_is_up(app, client, show, session):
    clock = {"now": 50.0}
    app.state.token_cache = auth.TokenCache(ttl=5.0, clock=lambda: clock["now"])
    assert client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(show["token"])).status_code == 200
    device = session.get(GateDevice, show["device"].id)
    device.revoked_at = utcnow()
    session.add(device)
    session.commit()
    # within the cache's time the process still knows the token (docs/gates.md: revocation takes up to 5 s) …
    clock["now"] += 4.0
    assert client.post("/api/v1/scans", json=scan_body(show["code"], "s2"),
                       headers=bearer(show["token"])).status_code == 200
    # … and after it the token is read again and refused
    clock["now"] += 1.0
    response = client.post("/api/v1/scans", json=scan_body(show["code"], "s3"), headers=bearer(show["token"]))
    assert response.status_code == 401 and "王伟" not in response.text


def test_staff_and_exhibitor_tokens_may_not_scan(client, show, session):
    factories.staff_user(session)
    staff, _ = auth.create_api_token(session, username="alice")
    factories.exhibitor_user(session, show["edition"])
    exhibitor, _ = auth.create_api_token(session, exhibitor_user_email="sales@huamei.example.cn")
    session.commit()
    for token in (staff, exhibitor):
        response = client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(token))
        assert (response.status_code, response.json()["error"]) == (403, "forbidden")
        assert client.get("/api/v1/scanner/snapshot", headers=bearer(token)).status_code == 403


def test_a_device_asking_for_another_edition_is_forbidden(client, show, session):
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    for path in (f"/api/v1/scans?edition_id={other.id}", f"/api/v1/scans/batch?edition_id={other.id}"):
        response = client.post(path, json=scan_body(show["code"]), headers=bearer(show["token"]))
        assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    snapshot = client.get(f"/api/v1/scanner/snapshot?edition_id={other.id}", headers=bearer(show["token"]))
    assert snapshot.status_code == 403
    ours = client.get(f"/api/v1/scanner/snapshot?edition_id={show['edition'].id}", headers=bearer(show["token"]))
    assert ours.status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"direction": "in", "scan_id": "s1"}, "code"),
    ({"code": "x", "direction": "sideways", "scan_id": "s1"}, "direction"),
    ({"code": "x", "direction": "in"}, "scan_id"),
    ({"code": "x", "direction": "in", "scan_id": ""}, "scan_id"),
    ({"code": "x", "direction": "in", "scan_id": "s1", "scanned_at": "2026-03-10T11:00:00"}, "scanned_at"),
    ({"code": "x", "direction": "in", "scan_id": "s1", "scanned_at": "yesterday"}, "scanned_at"),
    ({"code": "x", "direction": "in", "scan_id": "s1", "scanned_at": "2999-01-01T00:00:00Z"}, "scanned_at"),
    ([1, 2], "body"),
])
def test_a_malformed_scan_is_422_naming_the_field_and_stores_nothing(client, show, db, body, field):
    response = client.post("/api/v1/scans", json=body, headers=bearer(show["token"]))
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert db(lambda s: s.exec(select(Scan)).all()) == []


def test_a_body_that_is_not_json_is_422(client, show):
    response = client.post("/api/v1/scans", content=b"{", headers={**bearer(show["token"]),
                                                                  "content-type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (422, "malformed_json")


def test_a_batch_with_one_malformed_scan_judges_the_others(client, show, db):
    scans = [scan_body(show["code"], "b1", offline=True, device_verdict="accepted"),
             {"code": show["code"], "direction": "sideways", "scan_id": "b2"},
             scan_body("Z" * 116, "b3", offline=True, device_verdict="rejected", device_reason="invalid_code"),
             "not a scan"]
    response = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"]))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r.get("verdict") for r in results] == ["accepted", None, "rejected", None]
    assert results[1]["scan_id"] == "b2" and results[1]["error"]["code"] == "invalid"
    assert results[1]["error"]["field"] == "scans[1].direction"
    assert results[3] == {"scan_id": None, "error": {"code": "invalid", "message": results[3]["error"]["message"],
                                                     "field": "scans[3]"}}
    rows = db(lambda s: s.exec(select(Scan.scan_id, Scan.offline, Scan.device_verdict, Scan.verdict)
                               .order_by(Scan.scan_id)).all())
    assert rows == [("b1", True, "accepted", "accepted"), ("b3", True, "rejected", "rejected")]


def test_a_replayed_batch_returns_the_same_results_and_records_nothing_twice(client, show, db):
    start = datetime(2026, 3, 10, 3, tzinfo=UTC)
    scans = [{"code": show["code"], "direction": "in" if i % 2 == 0 else "out", "scan_id": f"off-{i}",
              "scanned_at": (start + timedelta(minutes=i)).isoformat(), "offline": True} for i in range(20)]
    first = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"])).json()
    again = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"])).json()
    assert again == first
    assert {r["verdict"] for r in first["results"]} == {"accepted"}
    assert len(db(lambda s: s.exec(select(Scan)).all())) == 20


item_by_item = api._item


def _every_form_of_a_valid_scan(show, session) -> list[dict]:
    """Valid scans in every form a device may send them: offsets, Z, seconds as numbers, flags, extra fields, and
    one scanned later than the server's clock allows (an error entry either way)."""
    other = factories.registration(session, show["edition"], full_name="李娜", email="lina@example.cn")
    code2 = show["signer"].sign(other.id, 1)
    times = ["2026-03-10T11:00:00+08:00", "2026-03-10T03:05:00Z", "2026-03-10 03:10:00.123456789+00:00",
             datetime(2026, 3, 10, 3, 15, tzinfo=UTC).timestamp(), None, "2026-03-10T03:20:00.5-00:00"]
    scans = [{"code": [show["code"], code2][i % 2], "direction": ["in", "out", "in"][i % 3], "scan_id": f"f-{i}",
              "scanned_at": at, "offline": i % 2 == 0, "device_verdict": "accepted" if i % 2 else None,
              "device_reason": None, "firmware": "2.1"} for i, at in enumerate(times)]
    scans[4].pop("scanned_at")
    ahead = (utcnow() + timedelta(hours=1)).isoformat()
    return [*scans, {"code": code2, "direction": "in", "scan_id": "f-ahead", "scanned_at": ahead},
            {"code": "Z" * 116, "direction": "in", "scan_id": "f-forged", "offline": "true"}]


def test_a_valid_batch_is_answered_as_when_it_is_taken_apart_item_by_item(client, show, session, db, monkeypatch):
    # the same scans from two devices at one gate: the second batch has one malformed item more, which makes the
    # server validate it item by item instead of as a whole
    scans = _every_form_of_a_valid_scan(show, session)
    token2, _device = auth.create_device(session, gate_id=show["gate"].id, name="Hall 1 scanner 2")
    session.commit()
    one_by_one = []
    monkeypatch.setattr(api, "_item", lambda *args: one_by_one.append(args[1]) or item_by_item(*args))
    whole = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"])).json()["results"]
    assert one_by_one == []
    apart = client.post("/api/v1/scans/batch", json={"scans": [*scans, {"scan_id": "bad"}]},
                        headers=bearer(token2)).json()["results"]
    assert one_by_one == list(range(9))
    assert apart[-1]["error"]["field"] == "scans[8].code"
    assert whole == apart[:-1]
    assert whole[6] == {"scan_id": "f-ahead", "error": {
        "code": "invalid", "field": "scans[6].scanned_at",
        "message": "scans[6].scanned_at: later than the server's clock; set the device's clock"}}
    assert [r.get("verdict") for r in whole] == ["accepted"] * 6 + [None, "rejected"]

    def rows(device_id):
        return lambda s: s.exec(select(Scan.scan_id, Scan.direction, Scan.scanned_at, Scan.offline,
                                       Scan.device_verdict, Scan.verdict, Scan.reason)
                                .where(Scan.device_id == device_id).order_by(Scan.id)).all()

    def sent_times(found):  # f-4 and f-forged have no scanned_at: each batch took the server's clock
        return [row if row[0] not in {"f-4", "f-forged"} else row[:2] + row[3:] for row in found]

    first, second = db(rows(show["device"].id)), db(rows(_device.id))
    assert len(first) == 7
    assert first[2][2] == datetime(2026, 3, 10, 3, 10, 0, 123456, tzinfo=UTC)
    assert sent_times(first) == sent_times(second)


def test_after_a_batch_each_person_is_where_their_last_accepted_entry_put_them(client, show, session, db):
    scans = [*_walk_in_and_out(show, 5), *_walk_in_and_out(show, 3)[::-1][:1]]
    results = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"])).json()
    assert [r["verdict"] for r in results["results"]] == ["accepted"] * 6
    entry = db(lambda s: s.exec(select(Scan).where(Scan.scan_id == "off-4")).one())
    presence = db(lambda s: s.get(Presence, show["registration"].id))
    assert (presence.zone_id, presence.entry_scan_id, presence.entered_at) == (entry.zone_id, entry.id,
                                                                               entry.scanned_at)
    assert entry.left_at is None
    earlier = db(lambda s: s.exec(select(Scan.scan_id, Scan.left_at).where(Scan.direction == "in")
                                  .order_by(Scan.id)).all())
    assert [(scan_id, left is None) for scan_id, left in earlier] == [("off-0", False), ("off-2", False),
                                                                    ("off-4", True)]


@pytest.mark.parametrize(("body", "field"), [({}, "scans"), ({"scans": "x"}, "scans"),
                                             ({"scans": [{}] * 10_001}, "scans")])
def test_a_batch_that_is_not_a_list_of_scans_is_422(client, show, body, field):
    response = client.post("/api/v1/scans/batch", json=body, headers=bearer(show["token"]))
    assert (response.status_code, response.json()["field"]) == (422, field)


def test_the_snapshot_gives_a_device_what_it_needs_offline(client, show, settings):
    response = client.get("/api/v1/scanner/snapshot", headers=bearer(show["token"]))
    assert response.status_code == 200
    snap = response.json()
    verifier = load_signer(settings.data_dir).verifier
    assert base64.b64decode(snap["public_key"]) == verifier.public_key_raw()
    assert snap["public_key_pem"] == verifier.public_key_pem()
    assert snap["gate"] == {"id": show["gate"].id, "name": "Hall 1 Gate A"}
    assert snap["zone"]["reentry"] == "free" and snap["access"] == [{"badge_type": "trade_visitor", "day": None}]
    assert len(snap["days"]) == 3 and snap["revocations"] == [] and snap["cursor"] == 0
    assert client.get("/api/v1/scanner/snapshot?cursor=-1", headers=bearer(show["token"])).status_code == 422


def test_the_scanner_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert paths["/api/v1/scans"]["post"]["x-kinds"] == ["device"]
    assert {"/api/v1/scans/batch", "/api/v1/scanner/snapshot"} <= paths.keys()


def _walk_in_and_out(show, count=20):
    start = datetime(2026, 3, 10, 3, tzinfo=UTC)
    return [{"code": show["code"], "direction": "in" if i % 2 == 0 else "out", "scan_id": f"off-{i}",
             "scanned_at": (start + timedelta(minutes=i)).isoformat(), "offline": True} for i in range(count)]


def test_a_batch_recorded_chunk_by_chunk_answers_as_one_transaction_would(client, show, db, monkeypatch):
    # chunks of 3: a person's ins and outs, a repeated scan_id and a forged code fall in different chunks
    monkeypatch.setattr(codes, "CHECK_CHUNK", 3)
    forged = Signer.generate().sign(show["registration"].id, 1)
    scans = [*_walk_in_and_out(show), {**_walk_in_and_out(show)[2], "direction": "out"},
             {"code": forged, "direction": "in", "scan_id": "forged"}, {"direction": "in", "scan_id": "bad"}]
    results = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"])).json()["results"]
    assert [r["verdict"] for r in results[:20]] == ["accepted"] * 20
    assert results[20] == results[2]  # the scan id seen before answers as before, direction aside
    assert (results[21]["verdict"], results[21]["reason"]) == ("rejected", "invalid_code")
    assert results[22]["error"]["field"] == "scans[22].code"
    assert len(db(lambda s: s.exec(select(Scan)).all())) == 21


def test_a_checking_process_that_fails_leaves_its_codes_to_the_recording(client, show, db, monkeypatch):
    class BrokenPool:
        def submit(self, *args):
            failed = Future()
            failed.set_exception(RuntimeError("the process died"))
            return failed

    monkeypatch.setattr(codes, "checking_processes", lambda: BrokenPool())
    monkeypatch.setattr(codes, "drop_checking_processes", lambda: None)
    results = client.post("/api/v1/scans/batch", json={"scans": _walk_in_and_out(show, 4)},
                          headers=bearer(show["token"])).json()["results"]
    assert [r["verdict"] for r in results] == ["accepted"] * 4
    assert results[0]["person"]["name"] == "王伟"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_batch_body_over_the_limit_is_413_and_records_nothing(client, show, db, monkeypatch, chunked):
    monkeypatch.setattr(uploads, "MAX_BATCH_BODY", 1000)
    raw = json.dumps({"scans": [scan_body(show["code"], f"big-{i}") for i in range(20)]}).encode()
    content = iter([raw[:500], raw[500:]]) if chunked else raw
    response = client.post("/api/v1/scans/batch", content=content, headers={
        **bearer(show["token"]), "content-type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    assert db(lambda s: s.exec(select(Scan)).all()) == []


def test_a_single_scan_over_its_limit_is_413(client, show):
    body = scan_body(show["code"], padding="x" * uploads.MAX_ITEM_BODY)
    response = client.post("/api/v1/scans", json=body, headers=bearer(show["token"]))
    assert (response.status_code, response.json()["error"]) == (413, "too_large")


def test_a_batch_of_countless_tiny_items_is_refused_before_it_is_parsed(client, show, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BATCH_VALUES", 50)
    response = client.post("/api/v1/scans/batch", json={"scans": [{}] * 60}, headers=bearer(show["token"]))
    assert (response.status_code, response.json()["field"]) == (422, "scans")


FAR_TIMES = ["0001-01-01T00:00:00+05:00", "9999-12-31", "9999-12-31T23:59:59-05:00", 0, "1999-12-31T23:59:59Z"]


@pytest.mark.parametrize("scanned_at", FAR_TIMES)
def test_a_scan_time_outside_the_years_2000_to_2099_is_422_naming_it(client, show, db, scanned_at):
    response = client.post("/api/v1/scans", json=scan_body(show["code"], scanned_at=scanned_at),
                           headers=bearer(show["token"]))
    assert (response.status_code, response.json()["field"]) == (422, "scanned_at")
    assert db(lambda s: s.exec(select(Scan)).all()) == []


def test_a_batch_item_with_a_far_scan_time_gets_its_own_error_entry_every_time(client, show, db):
    scans = [scan_body(show["code"], "near"), scan_body(show["code"], "far", scanned_at=FAR_TIMES[0])]
    for _ in range(2):
        response = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=bearer(show["token"]))
        assert response.status_code == 200, response.text
        near, far = response.json()["results"]
        assert near["verdict"] == "accepted"
        assert (far["scan_id"], far["error"]["field"]) == ("far", "scans[1].scanned_at")
    assert db(lambda s: s.exec(select(Scan.scan_id)).all()) == ["near"]


@pytest.mark.parametrize("path", ["/api/v1/scans", "/api/v1/scans/batch"])
@pytest.mark.parametrize("raw", [b"[" * 30_000 + b"]" * 30_000, b'{"scans": ' + b"[" * 5000 + b"]" * 5000 + b"}"])
def test_json_nested_too_deeply_is_422_malformed_json(client, show, path, raw):
    response = client.post(path, content=raw, headers={**bearer(show["token"]), "content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] in ("malformed_json", "invalid")


def test_a_reinstated_registration_opens_the_gate_with_its_new_badge_only(client, show, session):
    registration_id = show["registration"].id
    issued_badges.cancel(session, registration_id=registration_id, actor=audit.CLI)
    session.commit()
    refused = client.post("/api/v1/scans", json=scan_body(show["code"], "c1"), headers=bearer(show["token"])).json()
    assert refused["verdict"] == "rejected"
    issued_badges.reinstate(session, registration_id=registration_id, actor=audit.CLI)
    session.commit()
    new_code = show["signer"].sign(registration_id, 3)
    old = client.post("/api/v1/scans", json=scan_body(show["code"], "o1"), headers=bearer(show["token"])).json()
    new = client.post("/api/v1/scans", json=scan_body(new_code, "n1"), headers=bearer(show["token"])).json()
    assert (old["verdict"], new["verdict"]) == ("rejected", "accepted")
    # an offline device learns it from the snapshot: the latest change, version 3 valid and registered
    [change] = client.get("/api/v1/scanner/snapshot", headers=bearer(show["token"])).json()["revocations"]
    assert {key: change[key] for key in ("registration_id", "valid_version", "status")} == {
        "registration_id": registration_id, "valid_version": 3, "status": "registered"}

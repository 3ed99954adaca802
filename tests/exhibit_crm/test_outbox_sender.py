import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from exhibit_crm import commands, outbox, outbox_sender
from exhibit_crm.cli import main
from exhibit_crm.commands import mail as mail_command
from exhibit_crm.db import session_scope
from exhibit_crm.models import AuditLog, OutboxMessage, utcnow
from tests.exhibit_crm.test_outbox import stored
from tests.smtp import SmtpServer

MAIL_FROM = "Furniture Fair 家具展 <noreply@fair.example>"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def queue(session, count: int = 1, **fields) -> list[OutboxMessage]:
    messages = [outbox.queue_message(session, to_addr=f"visitor{i}@example.cn", subject=f"Your badge {i}",
                                     text_body=f"Hello {i}\n", **fields) for i in range(count)]
    session.commit()
    return messages


def send(engine, smtp: SmtpServer, now, **kwargs) -> outbox_sender.SendReport:
    return outbox_sender.send_due(engine, smtp_url=smtp.url, mail_from=MAIL_FROM, now=now, **kwargs)


def body(part) -> str:
    # text travels with SMTP's CRLF line ends; what a reader sees is the lines
    return part.get_content().replace("\r\n", "\n")


def test_multipart_mail_with_attachment_and_chinese_text_arrives_intact(engine, session, smtp):
    pdf = b"%PDF-1.4\n\x00\xff binary badge"
    text, html = "您好，王伟：\n附件是您的胸卡。\n", "<p>您好，<b>王伟</b>：附件是您的胸卡。</p>\n"
    subject = "2026 上海国际家具展 — 您的电子胸卡 / your e-badge"
    message = outbox.queue_message(session, to_addr="wang.wei@example.cn", to_name="王伟", subject=subject,
                                   text_body=text, html_body=html, kind="badge",
                                   attachments=[("胸卡 badge.pdf", "application/pdf", pdf)])
    session.commit()
    now = utcnow()

    report = send(engine, smtp, now)

    assert (report.sent_ids, report.retried_ids, report.failed_ids) == ([message.id], [], [])
    assert smtp.envelopes == [("noreply@fair.example", ["wang.wei@example.cn"])]
    [received] = smtp.messages
    assert received["Subject"] == subject
    assert received["Message-ID"] == message.message_id
    [to] = received["To"].addresses
    assert (to.display_name, to.addr_spec) == ("王伟", "wang.wei@example.cn")
    assert received["From"].addresses[0].display_name == "Furniture Fair 家具展"
    assert received.get_content_type() == "multipart/mixed"
    assert body(received.get_body(("plain",))) == text
    assert body(received.get_body(("html",))) == html
    [attachment] = received.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content_type()) == ("胸卡 badge.pdf", "application/pdf")
    assert attachment.get_content() == pdf
    row = stored(engine)[message.id]
    assert (row.status, row.sent_at, row.attempts, row.claim_token) == ("sent", now, 1, None)


def test_text_only_mail_is_a_single_part(engine, session, smtp):
    queue(session)
    send(engine, smtp, utcnow())
    [received] = smtp.messages
    assert received.get_content_type() == "text/plain"
    assert body(received) == "Hello 0\n"


def test_outbox_survives_an_smtp_server_that_is_down_and_then_up(engine, session, smtp):
    messages = queue(session, 5)
    smtp.stop()
    t0 = utcnow()

    down = send(engine, smtp, t0)
    assert (down.sent, down.retried, down.failed) == (0, 5, 0)
    for row in stored(engine).values():
        assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 1, t0 + MINUTE)
        assert "Connection" in row.last_error or "refused" in row.last_error
    assert send(engine, smtp, t0 + 30 * timedelta(seconds=1)).as_dict()["retried"] == 0  # back-off is respected
    t1 = t0 + MINUTE
    assert send(engine, smtp, t1).retried == 5
    assert {(row.attempts, row.next_attempt_at) for row in stored(engine).values()} == {(2, t1 + 2 * MINUTE)}

    smtp.start()
    up = send(engine, smtp, t1 + 2 * MINUTE)
    again = send(engine, smtp, t1 + 60 * MINUTE)

    assert sorted(up.sent_ids) == sorted(m.id for m in messages)
    assert again.as_dict() == outbox_sender.SendReport().as_dict()
    assert Counter(smtp.message_ids()) == Counter({m.message_id: 1 for m in messages})
    assert {(row.status, row.attempts, row.last_error) for row in stored(engine).values()} == {("sent", 3, "")}
    with Session(engine) as check:
        assert check.scalar(select(func.count()).where(AuditLog.action == "exhibit_crm.outbox.sent")) == 5


def test_two_senders_racing_deliver_each_message_exactly_once(engine, session, smtp):
    messages = queue(session, 30)
    now = utcnow()
    start = threading.Barrier(2)

    def sender():
        start.wait()
        return send(engine, smtp, now, batch=4)

    with ThreadPoolExecutor(2) as pool:
        first, second = [future.result() for future in [pool.submit(sender), pool.submit(sender)]]

    assert not set(first.sent_ids) & set(second.sent_ids)
    assert sorted(first.sent_ids + second.sent_ids) == sorted(m.id for m in messages)
    assert Counter(smtp.message_ids()) == Counter({m.message_id: 1 for m in messages})


def test_a_claim_taken_by_one_sender_cannot_be_taken_by_another(engine, session):
    messages = queue(session, 3)
    ids, now = [m.id for m in messages], utcnow()
    with session_scope(engine) as first:
        assert outbox_sender.claim_rows(first, ids=ids, token="a", now=now, lease=5 * MINUTE) == 3
    # a second sender that saw the same rows as due before the first committed its claim gets none of them
    with session_scope(engine) as second:
        assert outbox_sender.claim_rows(second, ids=ids, token="b", now=now, lease=5 * MINUTE) == 0
    assert outbox_sender.claim_due(engine, now=now)[1] == []
    assert {row.claim_token for row in stored(engine).values()} == {"a"}


def test_a_stale_claim_is_retried_after_the_lease_and_not_before(engine, session, smtp):
    [message] = queue(session)
    t0 = utcnow()
    token, claimed = outbox_sender.claim_due(engine, now=t0, lease=5 * MINUTE)  # a sender that then crashes
    assert [m.id for m in claimed] == [message.id]

    early = send(engine, smtp, t0 + 4 * MINUTE)
    assert (early.sent, smtp.messages, stored(engine)[message.id].status) == (0, [], "sending")

    late = send(engine, smtp, t0 + 5 * MINUTE + timedelta(seconds=1))
    assert late.sent_ids == [message.id]
    assert smtp.message_ids() == [message.message_id]
    assert (stored(engine)[message.id].status, stored(engine)[message.id].attempts) == ("sent", 2)


def test_a_message_whose_last_attempt_was_lost_with_its_sender_is_failed(engine, session, smtp):
    [message] = queue(session)
    t0 = utcnow()
    outbox_sender.claim_due(engine, now=t0, lease=5 * MINUTE)  # the only attempt allowed, and the sender dies

    report = send(engine, smtp, t0 + 6 * MINUTE, max_attempts=1)

    assert (report.sent, report.failed_ids, smtp.messages) == (0, [message.id], [])
    row = stored(engine)[message.id]
    assert (row.status, row.claim_token) == ("failed", None)
    assert row.last_error == "gave up: the sender of attempt 1 stopped before it finished"


def test_permanent_rejection_fails_and_temporary_rejection_retries(engine, session, smtp):
    refused, busy, fine = queue(session, 3)
    smtp.refuse[refused.to_addr] = "550 5.1.1 no such user"
    smtp.refuse[busy.to_addr] = "450 4.2.1 mailbox busy"
    now = utcnow()

    report = send(engine, smtp, now)

    assert (report.sent_ids, report.retried_ids, report.failed_ids) == ([fine.id], [busy.id], [refused.id])
    rows = stored(engine)
    assert (rows[refused.id].status, rows[refused.id].last_error) == ("failed", "550 5.1.1 no such user")
    assert (rows[busy.id].status, rows[busy.id].next_attempt_at) == ("queued", now + MINUTE)
    assert rows[busy.id].last_error.startswith("450")
    assert smtp.message_ids() == [fine.message_id]
    with Session(engine) as check:
        failed = check.scalars(select(AuditLog).where(AuditLog.action == "exhibit_crm.outbox.failed")).all()
    assert [(entry.object_type, entry.object_id) for entry in failed] == [("outbox_message", refused.id)]


def test_the_sender_gives_up_after_the_last_attempt(engine, session, smtp):
    [message] = queue(session)
    smtp.stop()
    when = utcnow()
    outcomes = []
    for _ in range(3):
        report = send(engine, smtp, when, max_attempts=3)
        outcomes.append((report.retried, report.failed))
        when = stored(engine)[message.id].next_attempt_at
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    row = stored(engine)[message.id]
    assert (row.status, row.attempts) == ("failed", 3)
    assert send(engine, smtp, when + 24 * 60 * MINUTE).as_dict()["failed"] == 0


def test_backoff_doubles_up_to_an_hour():
    assert [outbox_sender.backoff(n) / MINUTE for n in (1, 2, 3, 4, 6, 7, 20)] == [1, 2, 4, 8, 32, 60, 60]


@pytest.fixture
def fresh_settings():
    commands.settings.cache_clear()
    yield
    commands.settings.cache_clear()


def test_send_mail_once_prints_a_json_report(engine, session, smtp, database_url, monkeypatch, capsys,
                                             fresh_settings):
    [message] = queue(session)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SMTP_URL", smtp.url)
    monkeypatch.setenv("MAIL_FROM", MAIL_FROM)

    assert main(["send-mail", "--once", "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report == {"sent": 1, "retried": 0, "failed": 0, "sent_ids": [message.id], "retried_ids": [],
                      "failed_ids": []}
    assert smtp.message_ids() == [message.message_id]


def test_the_long_running_sender_reports_what_it_did_until_asked_to_stop():
    stop, printed = threading.Event(), []
    report = outbox_sender.SendReport
    results = [report(sent_ids=[1, 2]), report(), report(failed_ids=[3])]

    def send():
        if len(results) == 1:
            stop.set()  # as the signal handler does; the run in hand still finishes
        return results.pop(0)

    mail_command.serve(send, interval=0, stop=stop, report=printed.append)

    assert [(r.sent_ids, r.failed_ids) for r in printed] == [([1, 2], []), ([], [3])]
    assert results == []


def test_a_sender_whose_lease_ran_out_sends_nothing_another_sender_took_over(engine, session, smtp):
    messages = queue(session, 3)
    t0 = utcnow()
    slow_token, slow_batch = outbox_sender.claim_due(engine, now=t0, lease=5 * MINUTE)  # then stalls on a slow server
    later = t0 + 6 * MINUTE
    report = send(engine, smtp, later)  # a second sender takes the expired claims over and delivers them
    assert sorted(report.sent_ids) == [m.id for m in messages]
    client = outbox_sender.connect(smtp.url)
    try:
        resumed = outbox_sender.SendReport()
        outbox_sender._deliver(engine, client, slow_batch, token=slow_token, mail_from=MAIL_FROM, clock=lambda: later,
                        lease=5 * MINUTE, max_attempts=outbox_sender.MAX_ATTEMPTS, report=resumed)
    finally:
        client.quit()
    assert resumed.sent_ids == []
    assert sorted(smtp.message_ids()) == sorted(m.message_id for m in messages)  # each exactly once


def test_a_refused_sender_address_keeps_the_queue_for_later(engine, session, smtp):
    messages = queue(session, 2)
    smtp.refuse["refused@example.cn"] = "550 5.7.1 sender not allowed"
    report = outbox_sender.send_due(engine, smtp_url=smtp.url, mail_from="exhibit-crm <refused@example.cn>",
                                    now=utcnow())
    assert (report.sent, report.failed) == (0, 0)
    assert {m.status for m in stored(engine).values()} == {"queued"}
    assert len(messages) == 2


# Attachments made by the sender.

def test_a_rendered_attachment_is_made_from_its_stored_data_when_the_mail_is_sent(engine, session, smtp):
    kind = outbox.register_renderer("test-upper", content_type="text/plain", render=lambda data: data.upper())
    message = outbox.queue_message(session, to_addr="wang.wei@example.cn", subject="badge", text_body="see file",
                                   attachments=[("code.txt", kind, b"abc123")])
    session.commit()

    report = send(engine, smtp, utcnow())

    assert report.sent_ids == [message.id]
    [part] = smtp.messages[0].iter_attachments()
    assert (part.get_filename(), part.get_content_type(), part.get_content().strip()) == ("code.txt", "text/plain",
                                                                                         "ABC123")


def test_a_message_whose_renderer_this_sender_lacks_waits_for_another_try(engine, session, smtp):
    message = outbox.queue_message(session, to_addr="li.na@example.cn", subject="badge", text_body="see file",
                                   attachments=[("x.png", outbox.RENDERED + "nobody-registers-this", b"data")])
    session.commit()
    now = utcnow()

    report = send(engine, smtp, now)

    assert (report.sent_ids, report.retried_ids, report.failed_ids) == ([], [message.id], [])
    row = stored(engine)[message.id]
    assert row.status == "queued" and "nobody-registers-this" in row.last_error and smtp.messages == []


def test_several_messages_are_queued_together_with_their_attachments(engine, session, smtp):
    ids = outbox.queue_messages(session, [
        outbox.Outgoing(to_addr=f"visitor{i}@example.cn", subject=f"Your badge {i}", text_body=f"Hello {i}\n",
                        attachments=(("badge.pdf", "application/pdf", b"%PDF " + bytes([i])),)) for i in range(3)])
    session.commit()

    report = send(engine, smtp, utcnow())

    assert sorted(report.sent_ids) == sorted(ids) and len(set(ids)) == 3
    assert sorted((m["To"].addresses[0].addr_spec, next(m.iter_attachments()).get_content())
                  for m in smtp.messages) == [(f"visitor{i}@example.cn", b"%PDF " + bytes([i])) for i in range(3)]

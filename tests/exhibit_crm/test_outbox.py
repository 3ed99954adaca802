import pytest
from sqlmodel import Session, select

from exhibit_crm import outbox
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import OutboxMessage


def stored(engine) -> dict[int, OutboxMessage]:
    with Session(engine) as session:
        return {message.id: message for message in session.scalars(select(OutboxMessage))}


def test_a_message_exists_only_if_its_transaction_commits(engine, session):
    outbox.queue_message(session, to_addr="gone@example.cn", subject="never", text_body="rolled back")
    session.rollback()
    kept = outbox.queue_message(session, to_addr="kept@example.cn", subject="kept", text_body="committed")
    session.commit()
    assert [(m.id, m.to_addr, m.status) for m in stored(engine).values()] == [(kept.id, "kept@example.cn", "queued")]
    assert kept.message_id.endswith("@exhibit-crm.local>")


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@b", "two words@example.cn", "王伟@example.cn",
                                     "a@b@example.cn", "x@-bad-.cn"])
def test_addresses_we_cannot_send_to_are_refused(address):
    with pytest.raises(InvalidInput) as error:
        outbox.normalise_address(address)
    assert (error.value.code, error.value.field) == ("invalid_email", "to_addr")


def test_addresses_are_normalised():
    assert outbox.normalise_address("  Wang.Wei@Example.CN ") == "Wang.Wei@example.cn"
    assert outbox.normalise_address("li@例子.中国") == "li@xn--fsqu00a.xn--fiqs8s"


def test_header_injection_is_refused(session):
    with pytest.raises(InvalidInput) as error:
        outbox.queue_message(session, to_addr="a@example.cn", subject="hi\r\nBcc: victim@example.cn", text_body="")
    assert error.value.field == "subject"
    with pytest.raises(InvalidInput) as error:
        outbox.queue_message(session, to_addr="bad address", subject="hi", text_body="")
    assert error.value.field == "to_addr"


def test_queueing_several_checks_every_one_before_writing_any(engine, session):
    with pytest.raises(InvalidInput):
        outbox.queue_messages(session, [outbox.Outgoing(to_addr="ok@example.cn", subject="a", text_body=""),
                                        outbox.Outgoing(to_addr="bad address", subject="b", text_body="")])
    session.rollback()
    assert stored(engine) == {}

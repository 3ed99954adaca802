import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badge_scanner.code_format import CODE_BYTES, CODE_LENGTH, BadgeRef, InvalidCode, decode, encode, looks_like_code
from badge_scanner.codes import Signer, Verifier


@pytest.fixture(scope="module")
def signer() -> Signer:
    # Ed25519 signatures are deterministic, so a fixed key gives the same codes on every run
    return Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


@pytest.fixture(scope="module")
def code(signer) -> str:
    return signer.sign(4711, 3)


def _reason(verifier: Verifier, text) -> str:
    with pytest.raises(InvalidCode) as failed:
        verifier.verify(text)
    assert failed.value.code == "invalid_code"
    return failed.value.reason


def test_decode_reads_what_encode_wrote():
    for data in (bytes(CODE_BYTES), bytes(range(CODE_BYTES)), bytes([255]) * CODE_BYTES):
        text = encode(data)
        assert len(text) == CODE_LENGTH and decode(text) == data and decode(text.lower() + "\n") == data


def test_the_unused_bits_of_the_last_character_must_be_zero():
    text = encode(bytes(CODE_BYTES))
    with pytest.raises(InvalidCode) as failed:
        decode(text[:-1] + "B")
    assert failed.value.reason == "malformed"


def test_truncated_and_extended_codes_are_malformed(signer, code):
    for text in (code[:-1], code[:-8], code[:CODE_LENGTH // 2], code[:1], code + "A", code + "===="):
        assert _reason(signer.verifier, text) == "malformed"


def test_random_text_is_malformed(signer):
    for text in ("", "   ", "hello world", "https://example.com/badge/4711", "王伟", "13800138000",
                 "anna@example.com", "A" * (CODE_LENGTH - 1), "0" * CODE_LENGTH, None, b"AAAA"):
        assert _reason(signer.verifier, text) == "malformed"


def test_scanner_input_in_lower_case_or_with_a_newline_is_accepted(signer, code):
    for text in (code.lower(), f"{code}\r\n", f"\t {code} ", code.swapcase()):
        assert signer.verifier.verify(text) == BadgeRef(4711, 3)


def test_other_changes_are_not_forgiven(signer, code):
    # characters that str.upper() turns into the real ones: "ı" → "I", "ſ" → "S", "ß" → "SS"
    i, s = code.index("I"), code.index("S")
    lookalikes = [code[:i] + "ı" + code[i + 1:], code[:s] + "ſ" + code[s + 1:], code[:s] + "ß" + code[s + 1:]]
    inserted = [code[:58] + " " + code[58:], code[:58] + "-" + code[58:], code + "\x00", "\x00" + code]
    for text in lookalikes + inserted:
        assert _reason(signer.verifier, text) == "malformed"


def test_looks_like_code_is_a_shape_check(signer, code):
    assert looks_like_code(code) and looks_like_code(f" {code.lower()}\n")
    assert looks_like_code(Signer.generate().sign(1, 1))  # the signature is not checked
    for text in ("", "王伟", "Anna", "13800138000", "anna@example.com", code[:-1], code + "A", "1" * CODE_LENGTH):
        assert not looks_like_code(text)


def test_invalid_code_reports_its_reason():
    assert InvalidCode("bad_signature").as_dict() == {
        "error": "invalid_code", "message": "badge code is not valid (bad signature)", "reason": "bad_signature"}

import base64
import multiprocessing
import os
import stat
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badge_scanner import codes
from badge_scanner.code_format import CODE_LENGTH, FORMAT, BadgeRef, InvalidCode
from badge_scanner.codes import (
    KEY_FILE,
    Signer,
    Verifier,
    load_signer,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


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


def _forge(header: bytes, key: Ed25519PrivateKey) -> str:
    return base64.b32encode(header + key.sign(header)).decode().rstrip("=")


def test_round_trip_from_the_smallest_to_the_largest_ids(signer):
    for registration_id, version in ((1, 1), (4711, 3), (2**32 - 1, 2**16 - 1)):
        code = signer.sign(registration_id, version)
        assert len(code) == CODE_LENGTH == 116
        assert set(code) <= set(ALPHABET)  # QR alphanumeric mode
        assert signer.verifier.verify(code) == BadgeRef(registration_id, version)


def test_ids_that_do_not_fit_the_code_are_refused(signer):
    for registration_id, version in ((0, 1), (2**32, 1), (1, 0), (1, 2**16)):
        with pytest.raises(ValueError):
            signer.sign(registration_id, version)


def test_every_single_character_change_is_rejected(signer, code):
    reasons = {}
    for position, original in enumerate(code):
        for replacement in ALPHABET.replace(original, ""):
            changed = code[:position] + replacement + code[position + 1:]
            reasons.setdefault(position, set()).add(_reason(signer.verifier, changed))
    # five bits a character: the first holds format bits only, the second format and key id bits
    assert reasons[0] == {"unknown_format"}
    assert reasons[1] == {"unknown_format", "bad_signature"}
    assert all(reasons[p] == {"bad_signature"} for p in range(2, CODE_LENGTH - 1))
    # the last character carries one bit of signature and four unused bits that must be zero
    assert reasons[CODE_LENGTH - 1] == {"bad_signature", "malformed"}


def test_a_code_from_another_key_is_rejected(signer, code):
    other = Signer.generate()
    assert _reason(signer.verifier, other.sign(4711, 3)) == "bad_signature"
    assert _reason(other.verifier, code) == "bad_signature"


def test_another_key_cannot_forge_a_code_even_with_our_key_id(signer):
    header = struct.pack(">BBIH", FORMAT, signer.verifier.key_id, 4711, 3)
    assert _reason(signer.verifier, _forge(header, Ed25519PrivateKey.generate())) == "bad_signature"


def test_an_unknown_format_is_named(signer):
    header = struct.pack(">BBIH", 2, signer.verifier.key_id, 4711, 3)
    assert _reason(signer.verifier, _forge(header, Ed25519PrivateKey.generate())) == "unknown_format"


def test_random_bytes_of_the_right_shape_fail_on_the_signature(signer):
    noise = bytes([FORMAT, signer.verifier.key_id]) + bytes(range(70))
    assert _reason(signer.verifier, base64.b32encode(noise).decode().rstrip("=")) == "bad_signature"


def test_a_verifier_from_the_exported_public_key_needs_no_private_key(signer, code):
    from_pem = Verifier.from_pem(signer.verifier.public_key_pem())
    from_raw = Verifier.from_raw(signer.verifier.public_key_raw())
    for verifier in (from_pem, from_raw):
        assert verifier.verify(code) == BadgeRef(4711, 3)
        assert not hasattr(verifier, "sign")
    assert len(signer.verifier.public_key_raw()) == 32


def test_the_key_file_is_created_once_private_and_reused(tmp_path):
    data_dir = tmp_path / "data"
    load_signer.cache_clear()
    first = load_signer(data_dir)
    key_file = data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_bytes()
    assert b"PRIVATE KEY" in content
    assert load_signer(data_dir) is first  # cached per directory
    load_signer.cache_clear()
    again = load_signer(data_dir)
    assert again is not first
    assert key_file.read_bytes() == content
    assert again.verifier.verify(first.sign(9, 2)) == BadgeRef(9, 2)
    assert os.listdir(data_dir) == [KEY_FILE]  # no temporary files left behind
    assert load_signer(tmp_path / "other").verifier.public_key_raw() != first.verifier.public_key_raw()
    load_signer.cache_clear()


def test_a_process_that_loses_the_race_keeps_the_winners_key(tmp_path):
    path = tmp_path / KEY_FILE
    codes._create_key(path)
    winner = path.read_bytes()
    codes._create_key(path)  # as if it had checked before the winner linked its file
    assert path.read_bytes() == winner
    assert os.listdir(tmp_path) == [KEY_FILE]


def _public_key(data_dir, barrier, results):
    barrier.wait()
    results.put(codes.load_signer(data_dir).verifier.public_key_raw())


def test_processes_racing_on_first_use_end_with_one_key(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_public_key, args=(tmp_path / "data", barrier, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    keys = {results.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    load_signer.cache_clear()
    assert keys == {load_signer(tmp_path / "data").verifier.public_key_raw()}
    load_signer.cache_clear()


def test_check_remembers_codes_that_verify_and_never_forged_ones(signer):
    verifier = Verifier(signer.verifier._key)
    code = signer.sign(42, 3)
    assert verifier.check(code) == BadgeRef(42, 3) and verifier.knows(code)
    forged = code[:-3] + ("AAA" if not code.endswith("AAA") else "BAA")
    assert verifier.check(forged) is None and not verifier.knows(forged)
    assert verifier.check(code.lower()) == BadgeRef(42, 3)


def test_the_remembered_codes_are_bounded(signer, monkeypatch):
    monkeypatch.setattr(codes, "KNOWN_CODES", 10)
    verifier = Verifier(signer.verifier._key)
    for n in range(1, 30):
        verifier.check(signer.sign(n, 1))
    assert len(verifier._known) <= 10 and verifier.knows(signer.sign(29, 1))


def test_the_servers_check_by_signing_again_agrees_with_the_public_key_check(signer, code):
    # the server's verifier holds the private key and compares a fresh signature; devices verify with the public key
    public = Verifier.from_raw(signer.verifier.public_key_raw())
    header = struct.pack(">BBIH", FORMAT, signer.verifier.key_id, 4711, 3)
    candidates = [signer.sign(n, n % 7 + 1) for n in (1, 99, 4711, 2**31)]
    candidates += [code[:p] + ALPHABET[(ALPHABET.index(code[p]) + 1) % 32] + code[p + 1:] for p in range(CODE_LENGTH)]
    candidates += [Signer.generate().sign(4711, 3), _forge(header, Ed25519PrivateKey.generate()), code.lower(), "x"]

    def outcome(verifier, text):
        try:
            return verifier.verify(text)
        except InvalidCode as exc:
            return exc.reason

    answers = [(outcome(signer.verifier, text), outcome(public, text)) for text in candidates]
    assert all(ours == theirs for ours, theirs in answers)
    assert sum(isinstance(ours, BadgeRef) for ours, _ in answers) == 5  # the four issued codes and the lower case one


def test_verify_many_in_a_checking_process_answers_as_verify_does(signer):
    good, forged = signer.sign(7, 2), Signer.generate().sign(7, 2)
    public = Verifier.from_raw(signer.verifier.public_key_raw())
    assert signer.verifier.key_material()[0] == "sodium" and public.key_material()[0] == "public"
    for verifier in (signer.verifier, public):
        assert codes.verify_many(verifier.key_material(), [good, "Z" * CODE_LENGTH, "short", forged, None]) == [
            (7, 2), None, None, None, None]

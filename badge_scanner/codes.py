"""Badge codes signed and checked: the organiser's Ed25519 key (its file, the signer, the verifier that remembers
codes and spreads signature checks over threads) and the processes that check offline batches' codes. The code's
bytes and text are in `code_format` (docs/badges.md)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import logging
import multiprocessing
import multiprocessing.util
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl import bindings as sodium

from .code_format import FORMAT, HEADER, SIGNATURE_BYTES, BadgeRef, InvalidCode, decode, encode, key_id_of

log = logging.getLogger(__name__)
KEY_FILE = "badge-signing-key.pem"
# codes a Verifier remembers having verified (about 250 bytes each)
KNOWN_CODES = 200_000
# Verifier.check_many spreads the signature checks over the cores from this many new codes on
SPREAD_FROM = 256
_CHECKER_THREADS = (os.cpu_count() or 1) - 1
_checkers_lock = threading.Lock()
_checkers_pool: list[ThreadPoolExecutor] = []


def _checkers() -> ThreadPoolExecutor | None:
    """The process's signature-checking threads (one fewer than the cores), started on first use; None on one core."""
    if _CHECKER_THREADS < 1:
        return None
    with _checkers_lock:
        if not _checkers_pool:
            _checkers_pool.append(ThreadPoolExecutor(max_workers=_CHECKER_THREADS, thread_name_prefix="badge-check"))
        return _checkers_pool[0]




class Verifier:
    """Checks badge codes with the public key only, so a gate device can verify but never mint.

    The server's verifier also holds the private key (`Signer.verifier`) and checks a code by signing its header
    again and comparing: Ed25519 signatures are deterministic (RFC 8032, 5.1.6), so the one signature this key
    makes over a header is the one every code we issued carries. It accepts only signatures this key made; a
    forger needs the key either way. That signing is libsodium's (PyNaCl): 21 µs here against 34 µs for
    OpenSSL's signing and 115 µs for its verification, with the GIL released, so threads check codes side by side.
    """

    def __init__(self, public_key: Ed25519PublicKey, *, signing_key: Ed25519PrivateKey | None = None):
        self._key = public_key
        self._sodium_key: bytes | None = None  # libsodium's 64-byte secret key: seed and public key
        if signing_key is not None:
            seed = signing_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                             serialization.NoEncryption())
            self._sodium_key = sodium.crypto_sign_seed_keypair(seed)[1]
        self.key_id = key_id_of(self.public_key_raw())
        # code -> registration id << 16 | badge version: plain ints, so the garbage collector has nothing to walk in
        # a memory of 200,000 codes (objects here made its full passes take tens of milliseconds, a stall for
        # every request of the process)
        self._known: dict[str, int] = {}
        self._known_lock = threading.Lock()

    @classmethod
    def from_pem(cls, pem: bytes | str) -> Verifier:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return cls(key)

    @classmethod
    def from_raw(cls, raw: bytes) -> Verifier:
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    def public_key_raw(self) -> bytes:
        return self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def public_key_pem(self) -> str:
        pem = self._key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return pem.decode("ascii")

    def key_material(self) -> tuple[str, bytes]:
        """("sodium", libsodium's secret key) for the server's verifier, else ("public", the raw public key): what
        `verify_many` needs to check codes the same way in a checking process of ours."""
        if self._sodium_key is not None:
            return "sodium", self._sodium_key
        return "public", self.public_key_raw()

    def fingerprint(self) -> str:
        return hashlib.sha256(self.public_key_raw()).hexdigest()

    def verify(self, code: str) -> BadgeRef:
        """Return what a code names, or raise InvalidCode with the reason it fails."""
        header, signature, ref = self._parse(code)
        if self._sodium_key is not None:
            if not hmac.compare_digest(self._signature(header), signature):
                raise InvalidCode("bad_signature")
        else:
            try:
                self._key.verify(signature, header)
            except InvalidSignature:
                raise InvalidCode("bad_signature") from None
        return ref

    def _parse(self, code: str) -> tuple[bytes, bytes, BadgeRef]:
        """Header, signature and what the code names; InvalidCode for all but a bad signature."""
        data = decode(code)
        header, signature = data[: HEADER.size], data[HEADER.size:]
        fmt, key_id, registration_id, badge_version = HEADER.unpack(header)
        if fmt != FORMAT:
            raise InvalidCode("unknown_format")
        if key_id != self.key_id:
            raise InvalidCode("bad_signature")
        return header, signature, BadgeRef(registration_id, badge_version)

    def _signature(self, header: bytes) -> bytes:
        return sodium.crypto_sign(header, self._sodium_key)[:SIGNATURE_BYTES]  # it answers signature + message

    def _signatures(self, headers: list[bytes]) -> list[bytes]:
        return [self._signature(header) for header in headers]

    def check(self, code: str) -> BadgeRef | None:
        """What a code names, or None when it does not verify; a code that verified is remembered, since it always
        verifies with the same key (whether its badge is still valid is for the caller to judge)."""
        packed = self._known.get(code) if isinstance(code, str) else None
        if packed is not None:
            return BadgeRef(packed >> 16, packed & 0xFFFF)
        try:
            found = self.verify(code)
        except InvalidCode:
            return None
        self.remember({code: found})
        return found

    def check_many(self, codes: list[str], *, spread_from: int | None = None) -> list[BadgeRef | None]:
        """check() of each code. When at least `spread_from` (SPREAD_FROM) of them are new to the server's verifier,
        threads on the other cores make a share of their signatures beside this one: libsodium signs with the GIL
        released, and the threads run nothing else, so they rarely wait for it."""
        limit = SPREAD_FROM if spread_from is None else spread_from
        todo = {}
        for code in dict.fromkeys(codes):
            if isinstance(code, str) and code not in self._known:
                try:
                    todo[code] = self._parse(code)
                except InvalidCode:
                    pass
        if len(todo) >= limit and self._sodium_key is not None and (pool := _checkers()) is not None:
            shares = _CHECKER_THREADS + 1
            headers = [header for header, _signature, _ref in todo.values()]
            futures = [pool.submit(self._signatures, headers[share::shares]) for share in range(1, shares)]
            parts = [self._signatures(headers[0::shares]), *(future.result() for future in futures)]
            made = [parts[i % shares][i // shares] for i in range(len(headers))]
            self.remember({code: ref for (code, (_header, signature, ref)), expected in zip(todo.items(), made,
                                                                                          strict=True)
                           if hmac.compare_digest(expected, signature)})
        return [self.check(code) for code in codes]

    def knows(self, code: str) -> bool:
        return code in self._known

    def remember(self, verified: dict[str, BadgeRef]) -> None:
        """Keep codes that verified; past KNOWN_CODES the oldest tenth goes."""
        with self._known_lock:
            self._known.update((code, ref.registration_id << 16 | ref.badge_version) for code, ref in verified.items())
            if len(self._known) > KNOWN_CODES:
                for code in list(itertools.islice(self._known, len(self._known) - KNOWN_CODES * 9 // 10)):
                    del self._known[code]


@functools.cache
def _verifier_of(kind: str, key: bytes) -> Verifier:
    if kind == "sodium":
        return Signer(Ed25519PrivateKey.from_private_bytes(key[:32])).verifier
    return Verifier.from_raw(key)


def verify_many(key: tuple[str, bytes], codes: list[object]) -> list[tuple[int, int] | None]:
    """(registration id, badge version) of each code, or None where it does not verify: run by the checking
    processes, which get `Verifier.key_material()` through their pipe and send back plain tuples."""
    verifier = _verifier_of(*key)
    found: list[tuple[int, int] | None] = []
    for code in codes:
        try:
            ref = verifier.verify(code)
        except InvalidCode:
            found.append(None)
        else:
            found.append((ref.registration_id, ref.badge_version))
    return found


_processes_lock = threading.Lock()
_processes: dict[str, ProcessPoolExecutor | None] = {}
PARENT_CHECK_S = 0.5  # how often a checking process looks whether the process that started it is still there


def checking_processes() -> ProcessPoolExecutor | None:
    """Processes (one fewer than the cores) that check the badge codes of offline batches while this process records
    them: unlike threads they share no GIL with the recording. Started on first use; None on a single core. They are
    shut down when the server shuts down (shutdown_checking_processes) or this process exits, and exit by themselves
    when this process is gone (killed, say), so none outlives the server."""
    with _processes_lock:
        if "pool" not in _processes:
            cores = os.cpu_count() or 1
            _processes["pool"] = pool = ProcessPoolExecutor(
                max_workers=cores - 1, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent,
                initargs=(os.getpid(),)) if cores > 1 else None
            if pool is not None:  # run at the exit of a server's worker process too (a multiprocessing child)
                multiprocessing.util.Finalize(pool, pool.shutdown, kwargs={"cancel_futures": True}, exitpriority=10)
        return _processes["pool"]


def _exit_with_parent(parent: int) -> None:
    """In a checking process: exit once the process that started it is gone, instead of living on with PPID 1."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def shutdown_checking_processes() -> None:
    """Stop the checking processes and wait for them (the server's shutdown); a later batch starts new ones."""
    with _processes_lock:
        pool = _processes.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def warm_checking_processes() -> None:
    """Start the checking processes in the background (spawning one takes about a second), so that the first
    offline batch does not wait for them: called when a process starts taking gate or booth scans."""

    def start() -> None:
        pool = checking_processes()
        if pool is not None:
            try:
                for job in [pool.submit(int) for _ in range((os.cpu_count() or 1) - 1)]:
                    job.result()
            except Exception:  # noqa: BLE001  (the first batch starts them again, or checks its codes itself)
                drop_checking_processes()

    threading.Thread(target=start, name="badge-check-start", daemon=True).start()


# an offline batch's codes go to the checking processes in chunks of this many, and are recorded chunk by chunk
CHECK_CHUNK = 1000


@dataclass
class BatchChecks:
    """The signature checks of an offline batch's codes (one per item as sent, None where there is none), chunk by
    chunk: started before the items are validated, in processes that share no GIL with the validating and
    recording, so the recording of one chunk runs while the next chunks are checked."""

    verifier: Verifier
    codes: list
    futures: list  # per chunk: a Future of verify_many's answers, or None (checked by the recording process)
    chunk_size: int = CHECK_CHUNK

    def wait(self, chunk: int) -> None:
        """Remember the codes of this chunk that verified, once its check is done (in the recording thread)."""
        future = self.futures[chunk]
        if future is None:
            return
        codes = self.codes[chunk * self.chunk_size:(chunk + 1) * self.chunk_size]
        try:
            found = future.result()
        except Exception:  # noqa: BLE001  (a process that failed: the recording checks these codes itself)
            log.warning("a badge-checking process failed; checking its codes in this process", exc_info=True)
            drop_checking_processes()
            return
        self.verifier.remember({code: BadgeRef(*ref) for code, ref in zip(codes, found, strict=True) if ref})


def start_checks(verifier: Verifier, codes: list) -> BatchChecks:
    """Send a batch's codes to the checking processes, one chunk a job (nothing to do for codes already known)."""
    chunks = [[code if isinstance(code, str) and not verifier.knows(code) else None
               for code in codes[start:start + CHECK_CHUNK]] for start in range(0, len(codes), CHECK_CHUNK)]
    pool = checking_processes() if any(any(chunk) for chunk in chunks) else None
    key = verifier.key_material()
    futures = []
    for chunk in chunks:
        future = None
        if pool is not None and any(chunk):
            try:
                future = pool.submit(verify_many, key, chunk)
            except RuntimeError:  # a pool that broke or shut down: the recording process checks them
                drop_checking_processes()
                pool = None
        futures.append(future)
    return BatchChecks(verifier, codes, futures, CHECK_CHUNK)


def drop_checking_processes() -> None:
    """Forget a pool that failed; the next batch starts a new one."""
    with _processes_lock:
        pool = _processes.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)



class Signer:
    """Holds the organiser's private key and mints badge codes."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        self.verifier = Verifier(private_key.public_key(), signing_key=private_key)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    def sign(self, registration_id: int, badge_version: int) -> str:
        """The badge code for this registration and badge version."""
        if not 0 < registration_id < 2**32 or not 0 < badge_version < 2**16:
            raise ValueError("registration id must fit 32 bits and badge version 16 bits")
        header = HEADER.pack(FORMAT, self.verifier.key_id, registration_id, badge_version)
        return encode(header + self._key.sign(header))

    def private_key_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


@functools.cache
def load_signer(data_dir: Path) -> Signer:
    """The signer for a data directory, creating its key pair on first use; cached per directory."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        _create_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return Signer(key)


def _create_key(path: Path) -> None:
    # Write a complete file under a private name, then hard-link it into place: the link either
    # succeeds or finds the key another process made first, so racing processes share one key
    # and no reader ever sees a half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(Signer.generate().private_key_pem())
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)

"""The badge code format: a registration id and badge version under an 8-byte header, signed with the organiser's
Ed25519 key (signing and checking are in `codes`).

A code is base32 (RFC 4648, upper case, no padding) of an 8-byte header and the 64-byte
signature over that header:

    format (1 byte) | key id (1 byte) | registration id (4 bytes) | badge version (2 bytes)

all big-endian. Base32 stays inside the QR alphanumeric character set, so the QR is small,
and a keyboard-wedge scanner can type it. The format is described in docs/badges.md.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass

from exhibit_crm.errors import DomainError

FORMAT = 1
HEADER = struct.Struct(">BBIH")
SIGNATURE_BYTES = 64
CODE_BYTES = HEADER.size + SIGNATURE_BYTES
CODE_LENGTH = len(base64.b32encode(bytes(CODE_BYTES)).rstrip(b"="))  # 116 characters
_CODE_RE = re.compile(r"[A-Z2-7]+")
_B32_AS_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")
_UNUSED_BITS = CODE_LENGTH * 5 - CODE_BYTES * 8
_UNUSED_MASK = (1 << _UNUSED_BITS) - 1
_LOOKS_LIKE = re.compile(rf"[A-Za-z2-7]{{{CODE_LENGTH}}}")
REASONS = ("malformed", "bad_signature", "unknown_format")


class InvalidCode(DomainError):
    """A badge code that does not verify; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__("invalid_code", f"badge code is not valid ({reason.replace('_', ' ')})")
        self.reason = reason

    def as_dict(self) -> dict:
        return {**super().as_dict(), "reason": self.reason}


@dataclass(frozen=True)
class BadgeRef:
    registration_id: int
    badge_version: int


def key_id_of(public_raw: bytes) -> int:
    # One byte is enough to tell a rotated key from the current one; the signature does the proving.
    return hashlib.sha256(public_raw).digest()[0]


def decode(code: str) -> bytes:
    if not isinstance(code, str):
        raise InvalidCode("malformed")
    # Scanners that type the code add a newline and may send lower case; nothing else is forgiven.
    # ASCII is checked before upper-casing because "ß".upper() == "SS".
    text = code.strip()
    if not text.isascii():
        raise InvalidCode("malformed")
    text = text.upper()
    if len(text) != CODE_LENGTH or not _CODE_RE.fullmatch(text):
        raise InvalidCode("malformed")
    # Base32 read as one big number (the standard library's b32decode is a Python loop, ~20 times slower); the
    # alphabet check above comes first, as int() would also take the digits 0, 1, 8 and 9.
    value = int(text.translate(_B32_AS_DIGITS), 32)
    # The last character carries unused bits; they must be zero, or two different strings would name the same
    # signed bytes.
    if value & _UNUSED_MASK:
        raise InvalidCode("malformed")
    return (value >> _UNUSED_BITS).to_bytes(CODE_BYTES, "big")


def encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def looks_like_code(text: str) -> bool:
    """Whether text has the shape of a badge code (no signature check), e.g. to route a search."""
    return isinstance(text, str) and _LOOKS_LIKE.fullmatch(text.strip()) is not None

# Deliberately separate from sharpeyes/exporters/snmp/ber.py: a test bed built from the code it tests proves nothing.
"""A minimal BER codec for SNMP messages (X.690 subset: the types SNMP v2c/v3 use).

Values are ``(tag, payload)`` pairs; payload types by tag: INTEGER/Counter32/Gauge32/TimeTicks/Counter64
-> int, OCTET STRING/IpAddress/Opaque -> bytes, OBJECT IDENTIFIER -> tuple[int, ...], NULL and the
varbind exceptions -> None. Decoding works on byte offsets so the USM can find (and zero) the
authentication parameters inside the raw message.
"""

from __future__ import annotations

from typing import Any

INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_ID = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

GET = 0xA0
GET_NEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
GET_BULK = 0xA5
REPORT = 0xA8

OID = tuple[int, ...]
Value = tuple[int, Any]

_UNSIGNED = frozenset({COUNTER32, GAUGE32, TIMETICKS, COUNTER64})
_MAX = {COUNTER32: 0xFFFFFFFF, GAUGE32: 0xFFFFFFFF, TIMETICKS: 0xFFFFFFFF, COUNTER64: 0xFFFFFFFFFFFFFFFF}


class BerError(ValueError):
    """The bytes are not a well-formed BER encoding of what SNMP expects."""


# ---------------------------------------------------------------- encoding


def enc_len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + enc_len(len(content)) + content


def enc_int(n: int, tag: int = INTEGER) -> bytes:
    if tag in _UNSIGNED:
        n &= _MAX[tag]
        body = n.to_bytes(n.bit_length() // 8 + 1, "big")  # room for a leading zero byte
        if len(body) > 1 and body[0] == 0 and body[1] < 0x80:
            body = body[1:]
    else:
        body = n.to_bytes((n + (n < 0)).bit_length() // 8 + 1, "big", signed=True)
    return tlv(tag, body)


def enc_oid(oid: OID) -> bytes:
    if len(oid) < 2:
        oid = (*oid, 0, 0)[:2]
    out = bytearray()
    out += _base128(oid[0] * 40 + oid[1])
    for arc in oid[2:]:
        out += _base128(arc)
    return tlv(OBJECT_ID, bytes(out))


def _base128(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    parts = [n & 0x7F]
    n >>= 7
    while n:
        parts.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(parts))


def enc_value(value: Value) -> bytes:
    tag, payload = value
    if tag in (INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return enc_int(int(payload), tag)
    if tag in (OCTET_STRING, IP_ADDRESS, OPAQUE):
        return tlv(tag, payload)
    if tag == OBJECT_ID:
        return enc_oid(payload)
    return bytes((tag, 0))  # NULL and the exceptions


def enc_varbind(oid: OID, value: Value) -> bytes:
    return tlv(SEQUENCE, enc_oid(oid) + enc_value(value))


def enc_pdu(pdu_tag: int, request_id: int, error_status: int, error_index: int, varbinds: bytes) -> bytes:
    return tlv(
        pdu_tag, enc_int(request_id) + enc_int(error_status) + enc_int(error_index) + tlv(SEQUENCE, varbinds)
    )


# ---------------------------------------------------------------- decoding


def read_tlv(buf: bytes, pos: int, end: int | None = None) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``pos``."""
    limit = len(buf) if end is None else end
    if pos + 2 > limit:
        raise BerError("truncated header")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise BerError("multi-byte tags are not used by SNMP")
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        size = n & 0x7F
        if size == 0 or size > 4 or pos + size > limit:
            raise BerError("bad length")
        n = int.from_bytes(buf[pos : pos + size], "big")
        pos += size
    if pos + n > limit:
        raise BerError("truncated content")
    return tag, pos, pos + n


def expect(buf: bytes, pos: int, tag: int, end: int | None = None) -> tuple[int, int]:
    got, start, stop = read_tlv(buf, pos, end)
    if got != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    return start, stop


def dec_int(buf: bytes, start: int, stop: int, signed: bool = True) -> int:
    if stop <= start or stop - start > 9:
        raise BerError("bad integer")
    return int.from_bytes(buf[start:stop], "big", signed=signed)


def dec_oid(buf: bytes, start: int, stop: int) -> OID:
    if stop <= start:
        raise BerError("empty OID")
    arcs: list[int] = []
    n = 0
    for b in buf[start:stop]:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(n)
            n = 0
    if buf[stop - 1] & 0x80:
        raise BerError("bad OID")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def read_int(buf: bytes, pos: int, end: int | None = None) -> tuple[int, int]:
    """(value, next position) of an INTEGER at ``pos``."""
    start, stop = expect(buf, pos, INTEGER, end)
    return dec_int(buf, start, stop), stop


def read_octets(buf: bytes, pos: int, end: int | None = None) -> tuple[bytes, int, int]:
    """(value, content start, next position) of an OCTET STRING at ``pos``."""
    start, stop = expect(buf, pos, OCTET_STRING, end)
    return bytes(buf[start:stop]), start, stop


class Pdu:
    """A decoded request PDU.

    For GetBulk, ``error_status`` is non-repeaters and ``error_index`` max-repetitions.
    """

    __slots__ = ("error_index", "error_status", "oids", "request_id", "tag")

    def __init__(
        self, tag: int, request_id: int, error_status: int, error_index: int, oids: list[OID]
    ) -> None:
        self.tag = tag
        self.request_id = request_id
        self.error_status = error_status
        self.error_index = error_index
        self.oids = oids


def dec_pdu(buf: bytes, pos: int, end: int) -> Pdu:
    tag, start, stop = read_tlv(buf, pos, end)
    if tag & 0xE0 != 0xA0:
        raise BerError(f"not a PDU: tag 0x{tag:02x}")
    request_id, p = read_int(buf, start, stop)
    error_status, p = read_int(buf, p, stop)
    error_index, p = read_int(buf, p, stop)
    vb_start, vb_stop = expect(buf, p, SEQUENCE, stop)
    oids: list[OID] = []
    p = vb_start
    while p < vb_stop:
        s, e = expect(buf, p, SEQUENCE, vb_stop)
        os_, oe = expect(buf, s, OBJECT_ID, e)
        oids.append(dec_oid(buf, os_, oe))
        p = e
    return Pdu(tag, request_id, error_status, error_index, oids)


def parse_oid(text: str) -> OID:
    return tuple(int(x) for x in text.strip(".").split("."))


def oid_str(oid: OID) -> str:
    return ".".join(map(str, oid))

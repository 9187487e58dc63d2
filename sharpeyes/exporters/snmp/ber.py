"""A lean BER codec for the SNMP messages the exporter sends and receives.

Encodes GetRequest / GetNextRequest / GetBulkRequest PDUs (v2c messages, and bare PDUs for v3) and
decodes Response and Report PDUs by plain byte indexing: values become plain Python objects
(int, bytes, str, None, or one of the NoValue sentinels), never per-value ASN.1 objects. This is
where the exporter's SNMP CPU goes, so it is written for speed (see docs: ~0.7 µs per varbind
where pyasn1 takes ~45 µs).

Value mapping (RFC 3416 / RFC 2578 application types):
  INTEGER -> int, OCTET STRING -> bytes, NULL -> None, OBJECT IDENTIFIER -> "1.3.6..." (str),
  IpAddress -> "a.b.c.d" (str), Counter32 / Gauge32 / TimeTicks / Counter64 -> int,
  Opaque -> bytes, noSuchObject / noSuchInstance / endOfMibView -> NO_SUCH_OBJECT / NO_SUCH_INSTANCE /
  END_OF_MIB_VIEW.
Every malformed input raises BerError; no IndexError or struct error escapes.
"""

from __future__ import annotations

from typing import Any, Final

# Universal tags
INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
NULL: Final = 0x05
OID: Final = 0x06
SEQUENCE: Final = 0x30
# Application tags (RFC 2578)
IP_ADDRESS: Final = 0x40
COUNTER32: Final = 0x41
GAUGE32: Final = 0x42
TIMETICKS: Final = 0x43
OPAQUE: Final = 0x44
COUNTER64: Final = 0x46
# Exceptions in varbinds (RFC 3416)
NO_SUCH_OBJECT_TAG: Final = 0x80
NO_SUCH_INSTANCE_TAG: Final = 0x81
END_OF_MIB_VIEW_TAG: Final = 0x82
# PDU tags
GET_REQUEST: Final = 0xA0
GET_NEXT_REQUEST: Final = 0xA1
RESPONSE: Final = 0xA2
GET_BULK_REQUEST: Final = 0xA5
REPORT: Final = 0xA8

# fmt: off
ERROR_STATUS_NAMES: Final = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
    "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue",
    "resourceUnavailable", "commitFailed", "undoFailed", "authorizationError", "notWritable",
    "inconsistentName",
)
# fmt: on


class BerError(ValueError):
    """The bytes are not a well-formed SNMP message of the kind expected."""


class NoValue:
    """A varbind exception (noSuchObject, noSuchInstance, endOfMibView): compare by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


Value = int | bytes | str | None | NoValue

NO_SUCH_OBJECT: Final = NoValue("noSuchObject")
NO_SUCH_INSTANCE: Final = NoValue("noSuchInstance")
END_OF_MIB_VIEW: Final = NoValue("endOfMibView")
_EXCEPTIONS: Final = {
    NO_SUCH_OBJECT_TAG: NO_SUCH_OBJECT,
    NO_SUCH_INSTANCE_TAG: NO_SUCH_INSTANCE,
    END_OF_MIB_VIEW_TAG: END_OF_MIB_VIEW,
}
_UNSIGNED_TAGS: Final = frozenset((COUNTER32, GAUGE32, TIMETICKS, COUNTER64))


# ---------------------------------------------------------------------------------------------
# Encoding


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    return bytes((tag,)) + encode_length(n) + body


def encode_integer(value: int) -> bytes:
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def encode_octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


MAX_ARC: Final = 0xFFFFFFFF  # RFC 2578 3.5: sub-identifiers are at most 2^32-1
MAX_ARCS: Final = 128  # RFC 2578 3.5: at most 128 sub-identifiers
# SNMP INTEGERs are 32-bit (RFC 2578 7.1.1); 64 bits leaves room for lax agents. A longer one is
# malformed, and never reaches arithmetic or formatting (huge ints overflow floats and str()).
MAX_INTEGER_BYTES: Final = 9


class ByteBoundedCache:
    """A dict cache whose keys and values together stay under a byte budget: OIDs come from
    agents' replies (walks), so an entry count alone would let long OIDs fill memory. When the
    budget is reached the cache is emptied and refills with what is in use now."""

    __slots__ = ("budget", "data", "used")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.data: dict[Any, Any] = {}
        self.used = 0

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def put(self, key: Any, value: Any, size: int) -> None:
        if size > self.budget // 64:  # one entry never takes a noticeable share
            return
        if self.used + size > self.budget:
            self.data.clear()
            self.used = 0
        self.data[key] = value
        # dict slot, the key and value objects' headers, and their payloads
        self.used += size + 160


_oid_cache = ByteBoundedCache(4 << 20)


def encode_oid(oid: str) -> bytes:
    """The full TLV of an OID given as dotted text ("1.3.6.1.2.1.1.3.0"); cached, OIDs repeat."""
    cached = _oid_cache.get(oid)
    if cached is not None:
        return cached
    parts = oid.strip(".").split(".")
    if len(parts) > MAX_ARCS or any(len(a) > 10 for a in parts):
        raise BerError(f"not a valid OID: {oid[:64]!r}")
    try:
        arcs = [int(a) for a in parts]
    except ValueError:
        raise BerError(f"not a numeric OID: {oid[:64]!r}") from None
    if (
        len(arcs) < 2
        or arcs[0] > 2
        or (arcs[0] < 2 and arcs[1] > 39)
        or min(arcs) < 0
        or max(arcs) > MAX_ARC
    ):
        raise BerError(f"not a valid OID: {oid[:64]!r}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = bytearray()
        while arc:
            chunk.append((arc & 0x7F) | 0x80)
            arc >>= 7
        chunk[0] &= 0x7F
        chunk.reverse()
        out += chunk
    encoded = tlv(OID, bytes(out))
    _oid_cache.put(oid, encoded, len(oid) + len(encoded))
    return encoded


_NULL_VALUE: Final = b"\x05\x00"


def encode_pdu(pdu_type: int, request_id: int, oids: list[str], a: int = 0, b: int = 0) -> bytes:
    """A PDU with NULL-valued varbinds; (a, b) are error-status/index, or non-repeaters/max-repetitions."""
    varbinds = b"".join([tlv(SEQUENCE, encode_oid(o) + _NULL_VALUE) for o in oids])
    return tlv(
        pdu_type,
        encode_integer(request_id) + encode_integer(a) + encode_integer(b) + tlv(SEQUENCE, varbinds),
    )


def encode_v2c(community: bytes, pdu: bytes) -> bytes:
    return tlv(SEQUENCE, b"\x02\x01\x01" + encode_octets(community) + pdu)


def get_request(community: bytes, request_id: int, oids: list[str]) -> bytes:
    return encode_v2c(community, encode_pdu(GET_REQUEST, request_id, oids))


def get_next_request(community: bytes, request_id: int, oids: list[str]) -> bytes:
    return encode_v2c(community, encode_pdu(GET_NEXT_REQUEST, request_id, oids))


def get_bulk_request(
    community: bytes, request_id: int, oids: list[str], max_repetitions: int, non_repeaters: int = 0
) -> bytes:
    return encode_v2c(
        community, encode_pdu(GET_BULK_REQUEST, request_id, oids, non_repeaters, max_repetitions)
    )


def encode_value(tag: int, value: Value) -> bytes:
    """A typed value TLV (for agents and tests: the exporter itself only sends NULLs)."""
    if isinstance(value, NoValue):
        return bytes((tag, 0))
    if tag in (OCTET_STRING, OPAQUE) and isinstance(value, bytes):
        return tlv(tag, value)
    if tag == INTEGER and isinstance(value, int):
        return encode_integer(value)
    if tag in _UNSIGNED_TAGS and isinstance(value, int):
        if value < 0 or value >= (1 << (64 if tag == COUNTER64 else 32)):
            raise BerError(f"{value} out of range for type 0x{tag:02x}")
        return tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big"))
    if tag == OID and isinstance(value, str):
        return encode_oid(value)
    if tag == IP_ADDRESS and isinstance(value, str):
        return tlv(tag, bytes(int(x) for x in value.split(".")))
    if tag == NULL and value is None:
        return _NULL_VALUE
    raise BerError(f"cannot encode {value!r} as type 0x{tag:02x}")


def encode_response(
    request_id: int,
    varbinds: list[tuple[str, int, Value]],
    error_status: int = 0,
    error_index: int = 0,
    pdu_type: int = RESPONSE,
) -> bytes:
    """A Response (or Report) PDU from (oid, tag, value) triples."""
    body = b"".join([tlv(SEQUENCE, encode_oid(o) + encode_value(t, v)) for o, t, v in varbinds])
    return tlv(
        pdu_type,
        encode_integer(request_id)
        + encode_integer(error_status)
        + encode_integer(error_index)
        + tlv(SEQUENCE, body),
    )


# ---------------------------------------------------------------------------------------------
# Decoding


def read_tl(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the TLV at pos, checked against end."""
    if pos + 2 > end:
        raise BerError("truncated: no room for tag and length")
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise BerError("unsupported length form")
        if pos + k > end:
            raise BerError("truncated length")
        n = int.from_bytes(buf[pos : pos + k], "big")
        pos += k
    if pos + n > end:
        raise BerError("truncated: length runs past the end")
    return tag, pos, pos + n


def expect(buf: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    t, s, e = read_tl(buf, pos, end)
    if t != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{t:02x}")
    return s, e


def read_integer(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, position after) of an INTEGER at pos."""
    s, e = expect(buf, pos, end, INTEGER)
    if s == e or e - s > MAX_INTEGER_BYTES:
        raise BerError("empty INTEGER" if s == e else "INTEGER longer than 64 bits")
    return int.from_bytes(buf[s:e], "big", signed=True), e


def decode_oid(buf: bytes, s: int, e: int) -> str:
    if s == e:
        raise BerError("empty OID")
    if buf[e - 1] & 0x80:
        raise BerError("OID ends inside a sub-identifier")
    first = buf[s]
    if first < 0x80:
        head = f"{first // 40}.{first % 40}" if first < 80 else f"2.{first - 80}"
        s += 1
        arcs: list[int] = []
    else:
        head = ""
        arcs = []
    if e - s > MAX_ARCS * 5:
        raise BerError("OID longer than 128 sub-identifiers")
    arc = 0
    for i in range(s, e):
        c = buf[i]
        if c < 0x80 and arc == 0:
            arcs.append(c)
            continue
        arc = (arc << 7) | (c & 0x7F)
        if arc > MAX_ARC:  # checked per byte: an arc of thousands of digits never builds up
            raise BerError("OID sub-identifier above 2^32-1")
        if not c & 0x80:
            arcs.append(arc)
            arc = 0
    if len(arcs) > MAX_ARCS:
        raise BerError("OID longer than 128 sub-identifiers")
    if not head:  # first sub-identifier was multi-byte
        x = arcs[0]
        head = f"{x // 40}.{x % 40}" if x < 80 else f"2.{x - 80}"
        arcs = arcs[1:]
    if not arcs:
        return head
    return head + "." + ".".join(map(str, arcs))


def decode_value(buf: bytes, tag: int, s: int, e: int) -> Value:
    if tag in (OCTET_STRING, OPAQUE):
        return buf[s:e]
    if tag == INTEGER:
        if s == e or e - s > MAX_INTEGER_BYTES:
            raise BerError("empty INTEGER" if s == e else "INTEGER longer than 64 bits")
        return int.from_bytes(buf[s:e], "big", signed=True)
    if tag in _UNSIGNED_TAGS:
        if s == e or e - s > 9:
            raise BerError(f"bad length for unsigned type 0x{tag:02x}")
        return int.from_bytes(buf[s:e], "big")
    if tag == OID:
        return decode_oid(buf, s, e)
    if tag == NULL:
        if s != e:
            raise BerError("NULL with content")
        return None
    if tag == IP_ADDRESS:
        if e - s != 4:
            raise BerError("IpAddress is not 4 bytes")
        return f"{buf[s]}.{buf[s + 1]}.{buf[s + 2]}.{buf[s + 3]}"
    exc = _EXCEPTIONS.get(tag)
    if exc is not None:
        return exc
    raise BerError(f"unknown value type 0x{tag:02x}")


# OID content bytes -> dotted text; OIDs repeat every probe. Bounded by bytes: the keys come
# from agents.
_oid_text_cache = ByteBoundedCache(4 << 20)


class Pdu:
    """A decoded PDU: type, request id, error status/index and the varbinds as (oid, value)."""

    __slots__ = ("error_index", "error_status", "pdu_type", "request_id", "varbinds")

    def __init__(
        self,
        pdu_type: int,
        request_id: int,
        error_status: int,
        error_index: int,
        varbinds: list[tuple[str, Value]],
    ) -> None:
        self.pdu_type = pdu_type
        self.request_id = request_id
        self.error_status = error_status
        self.error_index = error_index
        self.varbinds = varbinds

    def __repr__(self) -> str:
        return (
            f"Pdu(type=0x{self.pdu_type:02x}, request_id={self.request_id}, "
            f"error_status={self.error_status}, error_index={self.error_index}, "
            f"varbinds={len(self.varbinds)})"
        )


def decode_pdu(buf: bytes, pos: int, end: int) -> Pdu:
    """Decode the PDU TLV at pos (any PDU type; the caller checks which it wants)."""
    try:
        pdu_type, s, e = read_tl(buf, pos, end)
        if pdu_type & 0xE0 != 0xA0:
            raise BerError(f"not a PDU tag: 0x{pdu_type:02x}")
        request_id, s = read_integer(buf, s, e)
        error_status, s = read_integer(buf, s, e)
        error_index, s = read_integer(buf, s, e)
        s, vend = expect(buf, s, e, SEQUENCE)
        if vend != e:
            raise BerError("trailing bytes after the varbind list")
        varbinds: list[tuple[str, Value]] = []
        append = varbinds.append
        oid_cache = _oid_text_cache
        while s < vend:
            # Fast path for the common shape (short-form lengths); anything else goes through
            # the general readers. Every computed end is checked against its container's end.
            if buf[s] == SEQUENCE and buf[s + 1] < 0x80:
                vbs = s + 2
                vbe = vbs + buf[s + 1]
                if vbe > vend:
                    raise BerError("truncated varbind")
            else:
                vbs, vbe = expect(buf, s, vend, SEQUENCE)
            if vbs + 2 <= vbe and buf[vbs] == OID and buf[vbs + 1] < 0x80:
                os_ = vbs + 2
                oe = os_ + buf[vbs + 1]
                if oe > vbe:
                    raise BerError("truncated OID")
            else:
                os_, oe = expect(buf, vbs, vbe, OID)
            key = buf[os_:oe]
            oid = oid_cache.get(key)
            if oid is None:
                oid = decode_oid(buf, os_, oe)
                oid_cache.put(key, oid, 2 * len(oid))
            tag, vs, ve = read_tl(buf, oe, vbe)
            if ve != vbe:
                raise BerError("trailing bytes inside a varbind")
            if tag in _UNSIGNED_TAGS and 0 < ve - vs <= 9:
                append((oid, int.from_bytes(buf[vs:ve], "big")))
            else:
                append((oid, decode_value(buf, tag, vs, ve)))
            s = vbe
    except (IndexError, OverflowError) as exc:  # defence in depth: every read is bounds-checked
        raise BerError(f"malformed PDU: {exc}") from None
    return Pdu(pdu_type, request_id, error_status, error_index, varbinds)


def decode_v2c(buf: bytes) -> tuple[bytes, Pdu]:
    """(community, PDU) of a v2c message; BerError if it is anything else."""
    end = len(buf)
    s, e = expect(buf, 0, end, SEQUENCE)
    if e != end:
        raise BerError("trailing bytes after the message")
    version, s = read_integer(buf, s, e)
    if version != 1:
        raise BerError(f"not an SNMPv2c message (version field {version})")
    cs, ce = expect(buf, s, e, OCTET_STRING)
    return buf[cs:ce], decode_pdu(buf, ce, e)


def peek_v2c(buf: bytes) -> tuple[bytes, int]:
    """(community, request-id) of a v2c message, read without decoding the varbinds: the
    cheap fields a receiver checks before spending anything on a datagram it did not ask for."""
    end = len(buf)
    s, e = expect(buf, 0, end, SEQUENCE)
    if e != end:
        raise BerError("trailing bytes after the message")
    version, s = read_integer(buf, s, e)
    if version != 1:
        raise BerError(f"not an SNMPv2c message (version field {version})")
    cs, ce = expect(buf, s, e, OCTET_STRING)
    pdu_type, ps, pe = read_tl(buf, ce, e)
    if pdu_type & 0xE0 != 0xA0:
        raise BerError(f"not a PDU tag: 0x{pdu_type:02x}")
    rs, re_ = expect(buf, ps, pe, INTEGER)
    if rs == re_ or re_ - rs > 4:
        raise BerError("request-id is not a 32-bit INTEGER")
    return buf[cs:ce], int.from_bytes(buf[rs:re_], "big", signed=True)


def message_version(buf: bytes) -> int:
    """The msgVersion field (0 = v1, 1 = v2c, 3 = v3) of a message, for dispatching."""
    s, e = expect(buf, 0, len(buf), SEQUENCE)
    version, _ = read_integer(buf, s, e)
    return version

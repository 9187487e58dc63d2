"""The BER codec, checked against pysnmp/pyasn1 (an independent implementation) both ways, and
fed malformed packets: every failure must be BerError, never IndexError or a wrong value."""

from __future__ import annotations

import random

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1905

from sharpeyes.exporters.snmp import ber

v2c = api.v2c

VALUES = [
    (
        "1.3.6.1.2.1.1.1.0",
        v2c.OctetString(b"S5720-56C-PWR-EI-AC\r\nHuawei"),
        b"S5720-56C-PWR-EI-AC\r\nHuawei",
    ),
    ("1.3.6.1.2.1.1.2.0", v2c.ObjectIdentifier("1.3.6.1.4.1.2011.2.23.291"), "1.3.6.1.4.1.2011.2.23.291"),
    ("1.3.6.1.2.1.1.3.0", v2c.TimeTicks(4294967295), 4294967295),
    ("1.3.6.1.2.1.2.2.1.8.54", v2c.Integer(1), 1),
    ("1.3.6.1.4.1.25506.2.70.1.1.1.12.13", v2c.Integer(-1005), -1005),
    ("1.3.6.1.4.1.25506.2.70.1.1.1.12.19", v2c.Integer(2147483647), 2147483647),
    ("1.3.6.1.4.1.1", v2c.Integer(-2147483648), -2147483648),
    ("1.3.6.1.2.1.4.20.1.1.10.0.0.1", v2c.IpAddress("10.0.0.1"), "10.0.0.1"),
    ("1.3.6.1.2.1.2.2.1.14.6", v2c.Counter32(4294967295), 4294967295),
    ("1.3.6.1.2.1.31.1.1.1.15.54", v2c.Gauge32(10000), 10000),
    ("1.3.6.1.2.1.31.1.1.1.6.13", v2c.Counter64(3631158395478), 3631158395478),
    ("1.3.6.1.2.1.31.1.1.1.6.14", v2c.Counter64(2**64 - 1), 2**64 - 1),
    ("1.3.6.1.4.1.9.9.1", v2c.Opaque(b"\x9f\x78\x04\x3f\x80\x00\x00"), b"\x9f\x78\x04\x3f\x80\x00\x00"),
    ("1.3.6.1.4.1.9.9.2", v2c.Null(""), None),
    ("1.3.6.1.2.1.1.9.0", rfc1905.noSuchObject, ber.NO_SUCH_OBJECT),
    ("1.3.6.1.2.1.2.2.1.8.999", rfc1905.noSuchInstance, ber.NO_SUCH_INSTANCE),
    ("1.3.6.1.2.1.99", rfc1905.endOfMibView, ber.END_OF_MIB_VIEW),
    # arcs > 127 and a large first-level arc exercise multi-byte sub-identifiers
    ("2.999.3", v2c.Integer(0), 0),
    ("1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8.67469390", v2c.Integer(536), 536),
]


def _pysnmp_response(request_id: int, varbinds: list[tuple[str, object]], community: str = "public") -> bytes:
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    pdu = v2c.GetResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    v2c.apiMessage.set_community(msg, community)
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def test_decodes_every_type_as_pysnmp_encodes_it() -> None:
    data = _pysnmp_response(123456, [(oid, val) for oid, val, _ in VALUES])
    community, pdu = ber.decode_v2c(data)
    assert community == b"public"
    assert pdu.pdu_type == ber.RESPONSE
    assert (pdu.request_id, pdu.error_status, pdu.error_index) == (123456, 0, 0)
    assert pdu.varbinds == [(oid, want) for oid, _, want in VALUES]
    # sentinels compare by identity and are falsy
    assert pdu.varbinds[14][1] is ber.NO_SUCH_OBJECT and not pdu.varbinds[14][1]


def test_decodes_error_status_and_negative_request_id() -> None:
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    pdu = v2c.GetResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 7)
    v2c.apiPDU.set_error_status(pdu, 5)
    v2c.apiPDU.set_error_index(pdu, 2)
    v2c.apiPDU.set_varbinds(pdu, [("1.3.6.1.2.1.1.3.0", v2c.Null("")), ("1.3.6.1.2.1.1.5.0", v2c.Null(""))])
    v2c.apiMessage.set_pdu(msg, pdu)
    _, got = ber.decode_v2c(bytes(encoder.encode(msg)))
    assert (got.error_status, got.error_index) == (5, 2)
    assert ber.ERROR_STATUS_NAMES[got.error_status] == "genErr"


@pytest.mark.parametrize(
    ("build", "pdu_class", "fields"),
    [
        (
            lambda: ber.get_request(b"cams/cam0042", 42, ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"]),
            "get",
            (0, 0),
        ),
        (lambda: ber.get_next_request(b"c", 2**31 - 1, ["1.3.6.1.2.1.31.1.1.1.1"]), "next", (0, 0)),
        (lambda: ber.get_bulk_request(b"c", 9, ["1.3.6.1.2.1.31.1.1.1.1"], 25), "bulk", (0, 25)),
    ],
)
def test_requests_decode_in_pysnmp(build: object, pdu_class: str, fields: tuple[int, int]) -> None:
    data = build()  # type: ignore[operator]
    msg, rest = decoder.decode(data, asn1Spec=v2c.Message())
    assert rest == b""
    pdu = v2c.apiMessage.get_pdu(msg)
    kind = {"get": v2c.GetRequestPDU, "next": v2c.GetNextRequestPDU, "bulk": v2c.GetBulkRequestPDU}[pdu_class]
    assert isinstance(pdu, kind)
    assert int(msg["version"]) == 1
    oids = [str(o) for o, _ in v2c.apiPDU.get_varbinds(pdu)]
    assert oids[0].startswith("1.3.6.1.2.1.")
    if pdu_class == "bulk":
        assert (int(pdu["non-repeaters"]), int(pdu["max-repetitions"])) == fields
    else:
        assert (int(pdu["error-status"]), int(pdu["error-index"])) == fields


def test_request_id_and_lengths_over_127_bytes() -> None:
    oids = [f"1.3.6.1.2.1.31.1.1.1.6.{i}" for i in range(1, 31)]  # > 255 bytes: long-form lengths
    data = ber.get_request(b"public", 305419896, oids)
    msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(msg)
    assert int(v2c.apiPDU.get_request_id(pdu)) == 305419896
    assert [str(o) for o, _ in v2c.apiPDU.get_varbinds(pdu)] == oids


def test_encode_response_round_trip() -> None:
    triples: list[tuple[str, int, ber.Value]] = [
        ("1.3.6.1.2.1.1.3.0", ber.TIMETICKS, 28156805),
        ("1.3.6.1.2.1.31.1.1.1.6.54", ber.COUNTER64, 34313072),
        ("1.3.6.1.2.1.1.2.0", ber.OID, "1.3.6.1.4.1.2011.2.23.291"),
        ("1.3.6.1.2.1.4.20.1.1", ber.IP_ADDRESS, "192.168.80.94"),
        ("1.3.6.1.2.1.1.1.0", ber.OCTET_STRING, b"x" * 300),
        ("1.3.6.1.2.1.1.9.0", ber.NO_SUCH_INSTANCE_TAG, ber.NO_SUCH_INSTANCE),
    ]
    data = ber.encode_v2c(b"c", ber.encode_response(5, triples))
    # pysnmp agrees with our encoding
    msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
    theirs = v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(msg))
    assert int(theirs[1][1]) == 34313072 and str(theirs[3][1].prettyPrint()) == "192.168.80.94"
    _, pdu = ber.decode_v2c(data)
    assert pdu.varbinds == [(o, v) for o, _, v in triples]


@pytest.mark.parametrize("oid", ["", "1", "3.1", "1.40", "1.3.x", "-1.3"])
def test_bad_oids_are_refused(oid: str) -> None:
    with pytest.raises(ber.BerError):
        ber.encode_oid(oid)


GOOD = _pysnmp_response(99, [(oid, val) for oid, val, _ in VALUES[:6]])


def test_every_truncation_raises_ber_error() -> None:
    for n in range(len(GOOD)):
        with pytest.raises(ber.BerError):
            ber.decode_v2c(GOOD[:n])


def test_trailing_garbage_raises() -> None:
    with pytest.raises(ber.BerError, match="trailing"):
        ber.decode_v2c(GOOD + b"\x00")


def _resp(varbind: bytes, version: bytes = b"\x02\x01\x01") -> bytes:
    pdu = ber.tlv(0xA2, b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + ber.tlv(0x30, varbind))
    return ber.tlv(0x30, version + b"\x04\x01c" + pdu)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (_resp(b"", version=b"\x02\x01\x00"), "version"),  # SNMPv1
        (_resp(b"", version=b"\x02\x01\x03"), "version"),  # v3 is not v2c
        (_resp(b"", version=b"\x04\x01\x01"), "expected tag"),  # version is not an INTEGER
        (_resp(ber.tlv(0x30, b"\x04\x01\x01\x05\x00")), "expected tag"),  # name is not an OID
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x47\x01\x00")), "unknown value type"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x40\x03\x0a\x00\x01")), "IpAddress"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x02\x00")), "empty INTEGER"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x41\x00")), "unsigned"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x46\x0a" + b"\x01" * 10)), "unsigned"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x05\x01\x00")), "NULL"),
        (_resp(ber.tlv(0x30, b"\x06\x00\x05\x00")), "empty OID"),
        (_resp(ber.tlv(0x30, b"\x06\x02\x2b\x86\x05\x00")), "OID ends"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x05\x00\x05\x00")), "trailing"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x04\x85\x00\x00\x00\x00\x01")), "length form"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x04\x80")), "length form"),  # indefinite
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x04\x82\x01")), "truncated"),
        (_resp(ber.tlv(0x30, ber.encode_oid("1.3.6") + b"\x04\x05abc")), "truncated"),
        (b"\x30\x03\x02\x01\x01", "truncated"),
        (b"", "truncated"),
        (b"\x31\x00", "expected tag"),
    ],
)
def test_malformed_messages(data: bytes, why: str) -> None:
    with pytest.raises(ber.BerError, match=why):
        ber.decode_v2c(data)


def test_not_a_pdu_tag() -> None:
    data = ber.tlv(0x30, b"\x02\x01\x01\x04\x01c" + ber.tlv(0x30, b""))
    with pytest.raises(ber.BerError, match="not a PDU"):
        ber.decode_v2c(data)


def test_random_corruption_only_ever_raises_ber_error() -> None:
    rng = random.Random(20261128)
    decoded = 0
    for _ in range(20000):
        data = bytearray(GOOD)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            ber.decode_v2c(bytes(data))
            decoded += 1
        except ber.BerError:
            pass
    # some corruptions land in values and still decode; most break structure
    assert 0 < decoded < 20000

"""Decoding SNMPv2c and SNMPv3 (USM) notifications with the exporter's own BER codec, bounded.

Only SNMPv2-Trap (0xA7) and InformRequest (0xA6) PDUs are notifications; everything else is
``unsupported``. Every malformed input raises :class:`ber.BerError` (``v3.UsmError`` for a failed
digest or decryption); nothing else escapes. Sizes and varbind counts are bounded before any work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sharpeyes.exporters.snmp import ber, v3
from sharpeyes.exporters.snmp.auth import SnmpAuth

TRAP_V2: Final = 0xA7
INFORM: Final = 0xA6
NOTIFICATIONS: Final = frozenset((TRAP_V2, INFORM))
MAX_DATAGRAM: Final = 8192
MAX_VARBINDS: Final = 64

# SNMPv2-MIB / IF-MIB (RFC 3418, RFC 2863)
SYS_UPTIME: Final = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID: Final = "1.3.6.1.6.3.1.1.4.1.0"
COLD_START: Final = "1.3.6.1.6.3.1.1.5.1"
WARM_START: Final = "1.3.6.1.6.3.1.1.5.2"
LINK_DOWN: Final = "1.3.6.1.6.3.1.1.5.3"
LINK_UP: Final = "1.3.6.1.6.3.1.1.5.4"
IF_INDEX: Final = "1.3.6.1.2.1.2.2.1.1"
TRAP_NAMES: Final = {COLD_START: "coldStart", WARM_START: "warmStart", LINK_DOWN: "linkDown", LINK_UP: "linkUp"}


class Unsupported(ber.BerError):
    """Well-formed SNMP that is not a notification we take (v1 Trap-PDU, a GET, a v3 inform)."""


@dataclass(frozen=True, slots=True)
class Notification:
    version: int  # 2 (v2c) or 3
    pdu_type: int
    request_id: int
    trap_oid: str
    varbinds: list[tuple[str, ber.Value]]
    community: bytes = b""  # v2c
    user: bytes = b""  # v3
    raw_varbinds: bytes = b""  # the varbind list TLV as received (an inform's Response echoes it)

    @property
    def name(self) -> str:
        return TRAP_NAMES.get(self.trap_oid, "other")

    def if_index(self) -> int | None:
        """The ifIndex of a linkDown/linkUp (the instance of its ifIndex varbind)."""
        prefix = IF_INDEX + "."
        for oid, value in self.varbinds:
            if oid.startswith(prefix):
                suffix = oid[len(prefix):]
                if suffix.isdigit():
                    return int(suffix)
                if isinstance(value, int):
                    return value
        return None


def _notification(buf: bytes, pos: int, end: int) -> tuple[ber.Pdu, bytes]:
    """The PDU at pos, checked to be a bounded notification, and its raw varbind list."""
    tag, s, e = ber.read_tl(buf, pos, end)
    if tag not in NOTIFICATIONS:
        raise Unsupported(f"PDU type 0x{tag:02x} is not a notification")
    p = s
    for _ in range(3):  # request-id, error-status, error-index
        _, p = ber.read_integer(buf, p, e)
    _, _, ve = ber.read_tl(buf, p, e)
    raw = buf[p:ve]
    pdu = ber.decode_pdu(buf, pos, end)
    if len(pdu.varbinds) > MAX_VARBINDS:
        raise ber.BerError(f"{len(pdu.varbinds)} varbinds (at most {MAX_VARBINDS})")
    # RFC 3416 4.2.6: sysUpTime.0 then snmpTrapOID.0 lead every notification
    if len(pdu.varbinds) < 2 or pdu.varbinds[0][0] != SYS_UPTIME or pdu.varbinds[1][0] != SNMP_TRAP_OID:
        raise ber.BerError("notification does not start with sysUpTime.0, snmpTrapOID.0")
    if not isinstance(pdu.varbinds[1][1], str):
        raise ber.BerError("snmpTrapOID.0 is not an OBJECT IDENTIFIER")
    return pdu, raw


def _checked_size(buf: bytes) -> None:
    if len(buf) > MAX_DATAGRAM:
        raise ber.BerError(f"datagram of {len(buf)} bytes (at most {MAX_DATAGRAM})")


def version_of(buf: bytes) -> int:
    _checked_size(buf)
    return ber.message_version(buf)


def decode_v2c(buf: bytes) -> Notification:
    _checked_size(buf)
    end = len(buf)
    s, e = ber.expect(buf, 0, end, ber.SEQUENCE)
    if e != end:
        raise ber.BerError("trailing bytes after the message")
    version, s = ber.read_integer(buf, s, e)
    if version != 1:
        raise Unsupported(f"message version {version} is not v2c")
    cs, ce = ber.expect(buf, s, e, ber.OCTET_STRING)
    pdu, raw = _notification(buf, ce, e)
    trap_oid = str(pdu.varbinds[1][1])
    return Notification(2, pdu.pdu_type, pdu.request_id, trap_oid, pdu.varbinds, community=buf[cs:ce],
                        raw_varbinds=raw)


def inform_response_v2c(note: Notification) -> bytes:
    """The Response to a v2c InformRequest: same request-id, the varbinds echoed (RFC 3416 4.2.7)."""
    body = ber.encode_integer(note.request_id) + ber.encode_integer(0) + ber.encode_integer(0)
    return ber.encode_v2c(note.community, ber.tlv(ber.RESPONSE, body + note.raw_varbinds))


def peek_v3(buf: bytes) -> tuple[bytes, bytes, int]:
    """(authoritative engine id, user name, msgFlags) of a v3 message, before any crypto."""
    _checked_size(buf)
    flags = _flags(buf)
    end = len(buf)
    s, e = ber.expect(buf, 0, end, ber.SEQUENCE)
    _, s = ber.read_integer(buf, s, e)
    gs, ge = ber.expect(buf, s, e, ber.SEQUENCE)
    ss, se = ber.expect(buf, ge, e, ber.OCTET_STRING)
    us, ue = ber.expect(buf, ss, se, ber.SEQUENCE)
    es, ee = ber.expect(buf, us, ue, ber.OCTET_STRING)
    _, p = ber.read_integer(buf, ee, ue)
    _, p = ber.read_integer(buf, p, ue)
    ns, ne = ber.expect(buf, p, ue, ber.OCTET_STRING)
    del gs
    return buf[es:ee], buf[ns:ne], flags


def _flags(buf: bytes) -> int:
    end = len(buf)
    s, e = ber.expect(buf, 0, end, ber.SEQUENCE)
    version, s = ber.read_integer(buf, s, e)
    if version != 3:
        raise Unsupported(f"message version {version} is not v3")
    gs, ge = ber.expect(buf, s, e, ber.SEQUENCE)
    _, p = ber.read_integer(buf, gs, ge)
    _, p = ber.read_integer(buf, p, ge)
    fs, fe = ber.expect(buf, p, ge, ber.OCTET_STRING)
    if fe - fs != 1:
        raise ber.BerError("msgFlags is not one byte")
    return buf[fs]


def decode_v3(buf: bytes, auth: SnmpAuth, engine_id: bytes) -> Notification:
    """A v3 trap authenticated (and decrypted) with ``auth``'s keys localized to the sender's engine
    id (the sender is authoritative for a trap, RFC 3414 1.5.1). UsmError when it fails."""
    _checked_size(buf)
    if auth.security_level != "noAuthNoPriv" and not _flags(buf) & v3.FLAG_AUTH:
        raise v3.UsmError(f"unauthenticated message for a {auth.security_level} user")
    if auth.security_level == "authPriv" and not _flags(buf) & v3.FLAG_PRIV:
        raise v3.UsmError("unencrypted message for an authPriv user")
    keys = v3.keys_for(auth, engine_id) if auth.auth_enabled else None
    msg = v3.decode_message(buf, auth, keys)
    pdu = msg.pdu
    if pdu is None:
        raise ber.BerError("v3 message without a PDU")
    if pdu.pdu_type == INFORM:
        raise Unsupported("v3 informs need this receiver's own engine id (not supported: send traps)")
    if pdu.pdu_type != TRAP_V2:
        raise Unsupported(f"PDU type 0x{pdu.pdu_type:02x} is not a notification")
    if len(pdu.varbinds) > MAX_VARBINDS:
        raise ber.BerError(f"{len(pdu.varbinds)} varbinds (at most {MAX_VARBINDS})")
    if len(pdu.varbinds) < 2 or pdu.varbinds[0][0] != SYS_UPTIME or pdu.varbinds[1][0] != SNMP_TRAP_OID:
        raise ber.BerError("notification does not start with sysUpTime.0, snmpTrapOID.0")
    if not isinstance(pdu.varbinds[1][1], str):
        raise ber.BerError("snmpTrapOID.0 is not an OBJECT IDENTIFIER")
    return Notification(3, pdu.pdu_type, pdu.request_id, pdu.varbinds[1][1], pdu.varbinds, user=msg.user)

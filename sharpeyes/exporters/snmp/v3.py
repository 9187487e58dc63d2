"""SNMPv3 User-based Security Model on top of our own BER codec (RFC 3412, 3414, 3826, 7860).

Why not pysnmp: its v3 path costs ~1 ms CPU per GET and registers every target in tables that
are scanned per request (O(n²) at thousands of targets; bench/bench_snmp.py measures both). This module is
pure functions plus two small caches (password -> key, key -> localized key); the per-agent
state (engine id, boots, time) lives in EngineState objects that udp.py keeps per address.
pysnmp stays the reference implementation in tests/exporters/test_snmp_agents.py.

Supported: noAuthNoPriv, authNoPriv, authPriv; auth HMAC-MD5-96, HMAC-SHA-96 (RFC 3414) and
HMAC-SHA-2 (RFC 7860); priv CBC-DES (RFC 3414), CFB128-AES-128 (RFC 3826) and CFB128-AES-192/256
with the key extension of draft-blumenthal-aes-usm-04 (what net-snmp's AES-192/AES-256 do).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography >= 43 moved the old ciphers and modes SNMP still uses to "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES  # type: ignore[no-redef]
    from cryptography.hazmat.primitives.ciphers.modes import CFB  # type: ignore[no-redef,assignment]

from sharpeyes.exporters.snmp import ber
from sharpeyes.exporters.snmp.auth import SnmpAuth

MSG_MAX_SIZE: Final = 65507
FLAG_AUTH: Final = 0x01
FLAG_PRIV: Final = 0x02
FLAG_REPORTABLE: Final = 0x04
USM: Final = 3

# (hashlib name, truncated MAC length) per auth protocol
_AUTH: Final = {
    "MD5": ("md5", 12),
    "SHA": ("sha1", 12),
    "SHA224": ("sha224", 16),
    "SHA256": ("sha256", 24),
    "SHA384": ("sha384", 32),
    "SHA512": ("sha512", 48),
}

# Report PDU varbinds (RFC 3414 usmStats*, RFC 3411 snmpUnknownContexts...)
USM_STATS_UNSUPPORTED_SEC_LEVELS: Final = "1.3.6.1.6.3.15.1.1.1.0"
USM_STATS_NOT_IN_TIME_WINDOWS: Final = "1.3.6.1.6.3.15.1.1.2.0"
USM_STATS_UNKNOWN_USER_NAMES: Final = "1.3.6.1.6.3.15.1.1.3.0"
USM_STATS_UNKNOWN_ENGINE_IDS: Final = "1.3.6.1.6.3.15.1.1.4.0"
USM_STATS_WRONG_DIGESTS: Final = "1.3.6.1.6.3.15.1.1.5.0"
USM_STATS_DECRYPTION_ERRORS: Final = "1.3.6.1.6.3.15.1.1.6.0"
REPORT_NAMES: Final = {
    USM_STATS_UNSUPPORTED_SEC_LEVELS: "unsupported security level",
    USM_STATS_NOT_IN_TIME_WINDOWS: "not in time window",
    USM_STATS_UNKNOWN_USER_NAMES: "unknown user name",
    USM_STATS_UNKNOWN_ENGINE_IDS: "unknown engine id",
    USM_STATS_WRONG_DIGESTS: "wrong digest (auth key)",
    USM_STATS_DECRYPTION_ERRORS: "decryption error (priv key)",
    "1.3.6.1.6.3.12.1.1.4.0": "unknown context",  # snmpUnknownContexts
    "1.3.6.1.6.3.11.2.1.3.0": "unknown PDU handler",  # snmpUnknownPDUHandlers
}


class UsmError(ber.BerError):
    """The message decodes but fails USM checks (digest, decryption, security model)."""


# ---------------------------------------------------------------------------------------------
# Keys (RFC 3414 A.2, RFC 7860 9.3)


@lru_cache(maxsize=256)
def password_to_key(protocol: str, password: str) -> bytes:
    """Ku: the hash of 1 MiB of the repeated password (a few ms; cached per password)."""
    pw = password.encode()
    if not pw:
        raise ValueError("empty password")
    repeated = (pw * (1048576 // len(pw) + 1))[:1048576]
    return hashlib.new(_AUTH[protocol][0], repeated).digest()


@lru_cache(maxsize=4096)
def localize_key(protocol: str, password: str, engine_id: bytes) -> bytes:
    """Kul = H(Ku || engineID || Ku)."""
    ku = password_to_key(protocol, password)
    return hashlib.new(_AUTH[protocol][0], ku + engine_id + ku).digest()


@dataclass(slots=True)
class EngineState:
    """What an agent told us in discovery: its engine id and clock (RFC 3414 2.3)."""

    engine_id: bytes
    boots: int
    time: int
    local_time: float  # our monotonic clock when `time` was learnt

    def now(self, clock: float) -> tuple[int, int]:
        return self.boots, min(self.time + int(clock - self.local_time), 0x7FFFFFFF)


@dataclass(slots=True)
class Keys:
    auth_key: bytes
    priv_key: bytes
    mac_len: int
    hash_name: str


# priv key bytes per protocol (DES: 8 key + 8 pre-IV)
PRIV_KEY_SIZE: Final = {"DES": 16, "AES": 16, "AES192": 24, "AES256": 32}


def keys_for(auth: SnmpAuth, engine_id: bytes) -> Keys:
    if not auth.auth_enabled:
        return Keys(b"", b"", 0, "")
    hash_name, mac_len = _AUTH[auth.auth_protocol]
    auth_key = localize_key(auth.auth_protocol, auth.auth_password, engine_id)
    priv_key = b""
    if auth.priv_enabled:
        localized = localize_key(auth.auth_protocol, auth.priv_password, engine_id)
        priv_key = extend_key(hash_name, localized, PRIV_KEY_SIZE[auth.priv_protocol])
    return Keys(auth_key, priv_key, mac_len, hash_name)


def extend_key(hash_name: str, key: bytes, size: int) -> bytes:
    """A localized key stretched to size bytes (draft-blumenthal-aes-usm-04 3.1.2.1):
    K' = K || H(K), repeated on the whole key until long enough. net-snmp's AES-192/AES-256 and
    pysnmp's usmAesBlumenthalCfb192/256 do this; Cisco's "-C" variants (Reeder) do not."""
    while len(key) < size:
        key += hashlib.new(hash_name, key).digest()
    return key[:size]


_salt_counter = int.from_bytes(os.urandom(8), "big")


def _next_salt() -> int:
    global _salt_counter
    _salt_counter = (_salt_counter + 1) & 0xFFFFFFFFFFFFFFFF
    return _salt_counter


def _encrypt(auth: SnmpAuth, keys: Keys, boots: int, etime: int, plain: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, msgPrivacyParameters)."""
    if auth.priv_protocol != "DES":  # AES-128/192/256: the key's length selects the variant
        salt = struct.pack(">Q", _next_salt())
        iv = struct.pack(">II", boots, etime) + salt
        enc = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).encryptor()
        return enc.update(plain) + enc.finalize(), salt
    # DES-CBC (RFC 3414 8.1.1.1; 3DES with k1=k2=k3 is single DES):
    # salt = boots || counter; IV = pre-IV xor salt; plaintext padded to 8 bytes
    salt = struct.pack(">II", boots & 0xFFFFFFFF, _next_salt() & 0xFFFFFFFF)
    iv = bytes(a ^ b for a, b in zip(keys.priv_key[8:16], salt, strict=True))
    plain += b"\x00" * (-len(plain) % 8)
    enc = Cipher(TripleDES(keys.priv_key[:8] * 3), modes.CBC(iv)).encryptor()
    return enc.update(plain) + enc.finalize(), salt


def _decrypt(auth: SnmpAuth, keys: Keys, boots: int, etime: int, salt: bytes, data: bytes) -> bytes:
    if len(salt) != 8:
        raise UsmError("msgPrivacyParameters is not 8 bytes")
    if auth.priv_protocol != "DES":
        iv = struct.pack(">II", boots, etime) + salt
        dec = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).decryptor()
        return dec.update(data) + dec.finalize()
    if len(data) % 8:
        raise UsmError("DES ciphertext is not a multiple of 8 bytes")
    iv = bytes(a ^ b for a, b in zip(keys.priv_key[8:16], salt, strict=True))
    dec = Cipher(TripleDES(keys.priv_key[:8] * 3), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


# ---------------------------------------------------------------------------------------------
# Messages


def encode_message(
    msg_id: int,
    pdu: bytes,
    auth: SnmpAuth | None,
    engine: EngineState | None,
    keys: Keys | None,
    clock: float,
) -> bytes:
    """A v3 message carrying pdu. auth/engine None = discovery probe (noAuthNoPriv, empty ids)."""
    tlv = ber.tlv
    if auth is None or engine is None or keys is None:
        flags, engine_id, boots, etime, user = FLAG_REPORTABLE, b"", 0, 0, b""
        context_name = b""
    else:
        flags = FLAG_REPORTABLE
        if auth.auth_enabled:
            flags |= FLAG_AUTH
        if auth.priv_enabled:
            flags |= FLAG_PRIV
        engine_id, user, context_name = engine.engine_id, auth.username.encode(), auth.context_name.encode()
        boots, etime = engine.now(clock)
    scoped = tlv(ber.SEQUENCE, ber.encode_octets(engine_id) + ber.encode_octets(context_name) + pdu)
    priv_params = b""
    if flags & FLAG_PRIV:
        assert auth is not None and keys is not None
        cipher, priv_params = _encrypt(auth, keys, boots, etime, scoped)
        msg_data = ber.encode_octets(cipher)
    else:
        msg_data = scoped
    mac_len = keys.mac_len if flags & FLAG_AUTH and keys is not None else 0
    usm_head = (
        ber.encode_octets(engine_id)
        + ber.encode_integer(boots)
        + ber.encode_integer(etime)
        + ber.encode_octets(user)
        + bytes((ber.OCTET_STRING, mac_len))
    )
    usm_tail = ber.encode_octets(priv_params)
    usm_seq = tlv(ber.SEQUENCE, usm_head + b"\x00" * mac_len + usm_tail)
    head = ber.encode_integer(3) + tlv(
        ber.SEQUENCE,
        ber.encode_integer(msg_id)
        + ber.encode_integer(MSG_MAX_SIZE)
        + ber.encode_octets(bytes((flags,)))
        + ber.encode_integer(USM),
    )
    security = ber.encode_octets(usm_seq)
    message = tlv(ber.SEQUENCE, head + security + msg_data)
    if not mac_len:
        return message
    assert keys is not None
    # the MAC placeholder sits at a fixed distance from the end of the usm SEQUENCE
    mac_at = len(message) - len(msg_data) - len(usm_tail) - mac_len
    mac = hmac.new(keys.auth_key, message, keys.hash_name).digest()[:mac_len]
    return message[:mac_at] + mac + message[mac_at + mac_len :]


@dataclass(slots=True)
class Incoming:
    """The parts of a received v3 message that matter to the requester."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    pdu: ber.Pdu | None = None
    context_engine_id: bytes = b""
    extra: dict[str, int] = field(default_factory=dict)


def peek_msg_id(buf: bytes) -> int:
    """msgID of a v3 message (to find the pending request before any crypto)."""
    s, e = ber.expect(buf, 0, len(buf), ber.SEQUENCE)
    version, s = ber.read_integer(buf, s, e)
    if version != 3:
        raise ber.BerError("not an SNMPv3 message")
    gs, ge = ber.expect(buf, s, e, ber.SEQUENCE)
    msg_id, _ = ber.read_integer(buf, gs, ge)
    return msg_id


def decode_message(buf: bytes, auth: SnmpAuth | None, keys: Keys | None) -> Incoming:
    """Parse, authenticate and decrypt a v3 message. Unauthenticated messages are accepted only
    when they carry no auth flag (discovery and error Reports); the caller checks the PDU type."""
    try:
        return _decode_message(buf, auth, keys)
    except (IndexError, ValueError, OverflowError, struct.error) as exc:
        if isinstance(exc, ber.BerError):
            raise
        raise ber.BerError(f"malformed v3 message: {exc}") from None


def _decode_message(buf: bytes, auth: SnmpAuth | None, keys: Keys | None) -> Incoming:
    end = len(buf)
    s, e = ber.expect(buf, 0, end, ber.SEQUENCE)
    if e != end:
        raise ber.BerError("trailing bytes after the message")
    version, s = ber.read_integer(buf, s, e)
    if version != 3:
        raise ber.BerError("not an SNMPv3 message")
    gs, ge = ber.expect(buf, s, e, ber.SEQUENCE)
    msg_id, p = ber.read_integer(buf, gs, ge)
    _max_size, p = ber.read_integer(buf, p, ge)
    fs, fe = ber.expect(buf, p, ge, ber.OCTET_STRING)
    if fe - fs != 1:
        raise ber.BerError("msgFlags is not one byte")
    flags = buf[fs]
    model, _ = ber.read_integer(buf, fe, ge)
    if model != USM:
        raise UsmError(f"security model {model} is not USM")
    ss, se = ber.expect(buf, ge, e, ber.OCTET_STRING)
    us, ue = ber.expect(buf, ss, se, ber.SEQUENCE)
    es, ee = ber.expect(buf, us, ue, ber.OCTET_STRING)
    boots, p = ber.read_integer(buf, ee, ue)
    etime, p = ber.read_integer(buf, p, ue)
    ns, ne = ber.expect(buf, p, ue, ber.OCTET_STRING)
    mac_s, mac_e = ber.expect(buf, ne, ue, ber.OCTET_STRING)
    ps, pe = ber.expect(buf, mac_e, ue, ber.OCTET_STRING)
    _check_usm_fields(msg_id, buf[es:ee], boots, etime)
    msg = Incoming(msg_id, flags, buf[es:ee], boots, etime, buf[ns:ne])
    if flags & FLAG_AUTH:
        if auth is None or keys is None or not keys.mac_len:
            raise UsmError("authenticated message without our keys")
        if mac_e - mac_s != keys.mac_len:
            raise UsmError("msgAuthenticationParameters has the wrong length")
        zeroed = buf[:mac_s] + b"\x00" * keys.mac_len + buf[mac_e:]
        mac = hmac.new(keys.auth_key, zeroed, keys.hash_name).digest()[: keys.mac_len]
        if not hmac.compare_digest(mac, buf[mac_s:mac_e]):
            raise UsmError("wrong digest on the response")
    if flags & FLAG_PRIV:
        if not flags & FLAG_AUTH or auth is None or keys is None or not keys.priv_key:
            raise UsmError("encrypted message without our keys")
        cs, ce = ber.expect(buf, se, e, ber.OCTET_STRING)
        plain = _decrypt(auth, keys, boots, etime, buf[ps:pe], buf[cs:ce])
        scoped, sstart, send_ = plain, 0, len(plain)
        # DES padding: the scoped PDU's own length says where it ends
        _, _, inner_end = ber.read_tl(scoped, 0, send_)
        send_ = inner_end
    else:
        scoped, sstart, send_ = buf, se, e
    ps2, pe2 = ber.expect(scoped, sstart, send_, ber.SEQUENCE)
    ce_s, ce_e = ber.expect(scoped, ps2, pe2, ber.OCTET_STRING)
    _cn_s, cn_e = ber.expect(scoped, ce_e, pe2, ber.OCTET_STRING)
    msg.context_engine_id = scoped[ce_s:ce_e]
    msg.pdu = ber.decode_pdu(scoped, cn_e, pe2)
    return msg


MAX_INT31: Final = 0x7FFFFFFF


def _check_usm_fields(msg_id: int, engine_id: bytes, boots: int, etime: int) -> None:
    """RFC 3412/3414 ranges: msgID, engine boots and time are 0..2^31-1 and an engine id is at
    most 32 bytes. An agent's value outside them is malformed here, so it is never cached as
    engine state (our next request would echo it and fail to encode)."""
    if not 0 <= msg_id <= MAX_INT31:
        raise ber.BerError("msgID out of range")
    if not 0 <= boots <= MAX_INT31:
        raise UsmError("msgAuthoritativeEngineBoots out of range 0..2^31-1")
    if not 0 <= etime <= MAX_INT31:
        raise UsmError("msgAuthoritativeEngineTime out of range 0..2^31-1")
    if len(engine_id) > 32:
        raise UsmError("msgAuthoritativeEngineID longer than 32 bytes")


def report_reason(pdu: ber.Pdu) -> tuple[str, str]:
    """(oid, human reason) of a Report PDU."""
    if not pdu.varbinds:
        return "", "empty report"
    oid = pdu.varbinds[0][0]
    return oid, REPORT_NAMES.get(oid, f"report {oid}")

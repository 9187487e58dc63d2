# Deliberately separate from sharpeyes/exporters/snmp: a test bed built from the code it tests proves nothing.
"""The SNMP agent: one UDP socket per device address, v2c communities and v3 USM per auth profile.

A request is answered from the device's MIB template and live state, or silently dropped when the
device is off or hung (as a real agent would be; nftables drops it anyway when the simulator runs
with its firewall). Wrong community: dropped (snmpInBadCommunityNames). Wrong v3 key: a REPORT of
usmStatsWrongDigests, exactly what net-snmp's agent sends.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..network import DeviceRt
from . import ber
from .ber import OID, BerError, Value
from .devices import engine_id, template_for
from .mib import MibTemplate
from .usm import (
    AUTH_PARAMS_LEN,
    DECRYPTION_ERRORS,
    NOT_IN_TIME_WINDOWS,
    TIME_WINDOW_S,
    UNKNOWN_ENGINE_IDS,
    UNKNOWN_USER_NAMES,
    UNSUPPORTED_SEC_LEVELS,
    WRONG_DIGESTS,
    UsmUser,
    aes_cfb,
    localized_key,
    sign,
)

log = logging.getLogger(__name__)

MAX_RESPONSE = 65000
MAX_BULK_VARBINDS = 2000
FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE = 1, 2, 4
ERR_TOO_BIG, ERR_NOT_WRITABLE = 1, 17


@dataclass(frozen=True, slots=True)
class SnmpProfile:
    """What one auth profile means to SNMP: a v2c community or a v3 user. Secrets never in repr."""

    version: int
    community: str = field(default="", repr=False)
    user: UsmUser | None = None

    def __repr__(self) -> str:
        return f"SnmpProfile(version={self.version}, user={self.user!r})"


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, agent: SnmpAgent, rt: DeviceRt) -> None:
        self.agent = agent
        self.rt = rt
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply = self.agent.handle(self.rt, data)
        except (BerError, IndexError, ValueError):
            self.agent.stats["malformed"] += 1
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class SnmpAgent:
    """Serves every device in ``devices`` whose auth profile has an SNMP section."""

    def __init__(
        self, devices: Iterable[DeviceRt], profiles: dict[str, SnmpProfile], port: int = 161
    ) -> None:
        self.devices = [d for d in devices if d.dev.auth in profiles]
        self.profiles = profiles
        self.port = port
        self.transports: list[asyncio.DatagramTransport] = []
        self.stats = {"requests": 0, "dropped": 0, "bad_community": 0, "reports": 0, "malformed": 0}
        self._salt = int.from_bytes(os.urandom(8), "big")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            for rt in self.devices:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((rt.dev.ip, self.port))
                sock.setblocking(False)
                transport, _ = await loop.create_datagram_endpoint(self._factory(rt), sock=sock)
                self.transports.append(transport)
        except OSError as exc:
            await self.close()
            raise OSError(exc.errno, f"cannot bind SNMP on {rt.dev.ip}:{self.port}: {exc.strerror}") from None

    def _factory(self, rt: DeviceRt) -> Callable[[], _Proto]:
        return lambda: _Proto(self, rt)

    async def close(self) -> None:
        for t in self.transports:
            t.close()
        self.transports = []

    # ------------------------------------------------------------ message level
    def handle(self, rt: DeviceRt, data: bytes) -> bytes | None:
        self.stats["requests"] += 1
        if not rt.state.responsive:
            self.stats["dropped"] += 1
            return None
        start, stop = ber.expect(data, 0, ber.SEQUENCE)
        version, p = ber.read_int(data, start, stop)
        profile = self.profiles[rt.dev.auth]
        if version == 1 and profile.version == 2:
            return self._v2c(rt, profile, data, p, stop)
        if version == 3 and profile.version == 3 and profile.user is not None:
            return self._v3(rt, profile.user, data, p, stop)
        self.stats["dropped"] += 1
        return None

    def _v2c(self, rt: DeviceRt, profile: SnmpProfile, data: bytes, p: int, stop: int) -> bytes | None:
        community, _, p = ber.read_octets(data, p, stop)
        if rt.state.credentials_broken or not hmac.compare_digest(community, profile.community.encode()):
            self.stats["bad_community"] += 1
            return None
        pdu = ber.dec_pdu(data, p, stop)
        body = self.answer(rt, pdu, MAX_RESPONSE - len(community) - 32)
        if body is None:
            return None
        return ber.tlv(ber.SEQUENCE, ber.enc_int(1) + ber.tlv(ber.OCTET_STRING, community) + body)

    def _v3(self, rt: DeviceRt, user: UsmUser, data: bytes, p: int, stop: int) -> bytes | None:
        g_start, g_stop = ber.expect(data, p, ber.SEQUENCE, stop)
        msg_id, q = ber.read_int(data, g_start, g_stop)
        max_size, q = ber.read_int(data, q, g_stop)
        flags_raw, _, q = ber.read_octets(data, q, g_stop)
        sec_model, q = ber.read_int(data, q, g_stop)
        flags = flags_raw[0] if flags_raw else 0
        if sec_model != 3:
            return None
        sp_raw_start, sp_raw_stop = ber.expect(data, g_stop, ber.OCTET_STRING, stop)
        u_start, u_stop = ber.expect(data, sp_raw_start, ber.SEQUENCE, sp_raw_stop)
        req_engine, _, q = ber.read_octets(data, u_start, u_stop)
        req_boots, q = ber.read_int(data, q, u_stop)
        req_time, q = ber.read_int(data, q, u_stop)
        user_name, _, q = ber.read_octets(data, q, u_stop)
        auth_params, auth_at, q = ber.read_octets(data, q, u_stop)
        priv_params, _, q = ber.read_octets(data, q, u_stop)
        msg_data_at = sp_raw_stop

        eid = engine_id(rt)
        boots = rt.engine_boots()
        etime = int(rt.state.uptime_s())
        ctx = _V3Ctx(msg_id, max_size, eid, boots, etime, user_name)
        reportable = bool(flags & FLAG_REPORTABLE)

        def report(oid: OID, level: int, key_user: UsmUser | None = None) -> bytes | None:
            self.stats["reports"] += 1
            if not reportable:
                return None
            vb = ber.enc_varbind(oid, (ber.COUNTER32, self.stats["reports"]))
            pdu = ber.enc_pdu(ber.REPORT, self._request_id(data, msg_data_at, stop, flags), 0, 0, vb)
            return self._wrap_v3(ctx, pdu, b"", level, key_user)

        if req_engine != eid:
            return report(UNKNOWN_ENGINE_IDS, 0)
        if user_name != user.name.encode():
            return report(UNKNOWN_USER_NAMES, 0)
        level = flags & 3
        if level == FLAG_PRIV or level < user.level:
            return report(UNSUPPORTED_SEC_LEVELS, 0)
        if level & FLAG_AUTH:
            key = localized_key(user.auth_password, user.auth, eid)
            if rt.state.credentials_broken:
                key = localized_key(user.auth_password + "~changed", user.auth, eid)
            blank = bytearray(data)
            if len(auth_params) != AUTH_PARAMS_LEN:
                return report(WRONG_DIGESTS, 0)
            blank[auth_at : auth_at + AUTH_PARAMS_LEN] = bytes(AUTH_PARAMS_LEN)
            if not hmac.compare_digest(sign(key, user.auth, bytes(blank)), auth_params):
                return report(WRONG_DIGESTS, 0)
            if req_boots != boots or abs(req_time - etime) > TIME_WINDOW_S:
                return report(NOT_IN_TIME_WINDOWS, FLAG_AUTH, user)
        if level & FLAG_PRIV:
            enc, _, _ = ber.read_octets(data, msg_data_at, stop)
            if len(priv_params) != 8:
                return report(DECRYPTION_ERRORS, FLAG_AUTH, user)
            pkey = localized_key(user.priv_password, user.auth, eid)
            scoped = aes_cfb(pkey, req_boots, req_time, priv_params, enc, encrypt=False)
            try:
                s_start, s_stop = ber.expect(scoped, 0, ber.SEQUENCE)
            except BerError:
                return report(DECRYPTION_ERRORS, FLAG_AUTH, user)
        else:
            scoped = data
            s_start, s_stop = ber.expect(data, msg_data_at, ber.SEQUENCE, stop)
        _ctx_engine, _, q = ber.read_octets(scoped, s_start, s_stop)
        ctx_name, _, q = ber.read_octets(scoped, q, s_stop)
        pdu = ber.dec_pdu(scoped, q, s_stop)
        budget = min(max_size, MAX_RESPONSE) - 160 - len(ctx_name) - len(user_name)
        body = self.answer(rt, pdu, budget)
        if body is None:
            return None
        return self._wrap_v3(ctx, body, ctx_name, level, user)

    def _request_id(self, data: bytes, at: int, stop: int, flags: int) -> int:
        if flags & FLAG_PRIV:
            return 0
        try:
            s_start, s_stop = ber.expect(data, at, ber.SEQUENCE, stop)
            _, _, q = ber.read_octets(data, s_start, s_stop)
            _, _, q = ber.read_octets(data, q, s_stop)
            return ber.dec_pdu(data, q, s_stop).request_id
        except (BerError, IndexError):
            return 0

    def _wrap_v3(self, ctx: _V3Ctx, pdu: bytes, ctx_name: bytes, level: int, user: UsmUser | None) -> bytes:
        scoped = ber.tlv(
            ber.SEQUENCE, ber.tlv(ber.OCTET_STRING, ctx.engine_id) + ber.tlv(ber.OCTET_STRING, ctx_name) + pdu
        )
        priv_params = b""
        if level & FLAG_PRIV and user is not None:
            self._salt = (self._salt + 1) & 0xFFFFFFFFFFFFFFFF
            priv_params = self._salt.to_bytes(8, "big")
            pkey = localized_key(user.priv_password, user.auth, ctx.engine_id)
            msg_data = ber.tlv(
                ber.OCTET_STRING, aes_cfb(pkey, ctx.boots, ctx.time, priv_params, scoped, True)
            )
        else:
            msg_data = scoped
        auth_on = bool(level & FLAG_AUTH) and user is not None
        usm_head = (
            ber.tlv(ber.OCTET_STRING, ctx.engine_id)
            + ber.enc_int(ctx.boots)
            + ber.enc_int(ctx.time)
            + ber.tlv(ber.OCTET_STRING, ctx.user_name)
        )
        auth_field = ber.tlv(ber.OCTET_STRING, bytes(AUTH_PARAMS_LEN) if auth_on else b"")
        usm = ber.tlv(ber.SEQUENCE, usm_head + auth_field + ber.tlv(ber.OCTET_STRING, priv_params))
        header = ber.tlv(
            ber.SEQUENCE,
            ber.enc_int(ctx.msg_id)
            + ber.enc_int(ctx.max_size)
            + ber.tlv(ber.OCTET_STRING, bytes((level,)))
            + ber.enc_int(3),
        )
        body = ber.enc_int(3) + header + ber.tlv(ber.OCTET_STRING, usm) + msg_data
        msg = ber.tlv(ber.SEQUENCE, body)
        if not auth_on or user is None:
            return msg
        # where the 12 auth bytes are: outer header, version + header, usm octet and sequence headers,
        # the fields before authParams, and authParams' own tag + length
        outer = len(msg) - len(body)
        usm_octet_hdr = len(ber.tlv(ber.OCTET_STRING, usm)) - len(usm)
        usm_seq_hdr = len(usm) - (
            len(usm_head) + len(auth_field) + len(ber.tlv(ber.OCTET_STRING, priv_params))
        )
        at = outer + len(ber.enc_int(3)) + len(header) + usm_octet_hdr + usm_seq_hdr + len(usm_head) + 2
        key = localized_key(user.auth_password, user.auth, ctx.engine_id)
        out = bytearray(msg)
        out[at : at + AUTH_PARAMS_LEN] = sign(key, user.auth, msg)
        return bytes(out)

    # ------------------------------------------------------------ PDU level
    def answer(self, rt: DeviceRt, pdu: ber.Pdu, budget: int) -> bytes | None:
        tpl = _template(rt)
        if pdu.tag == ber.GET:
            vbs = b"".join(ber.enc_varbind(o, self._get(tpl, rt, o)) for o in pdu.oids)
        elif pdu.tag == ber.GET_NEXT:
            vbs = b"".join(ber.enc_varbind(*self._next(tpl, rt, o)) for o in pdu.oids)
        elif pdu.tag == ber.GET_BULK:
            vbs = self._bulk(tpl, rt, pdu, budget)
        elif pdu.tag == ber.SET:
            vbs = b"".join(ber.enc_varbind(o, (ber.NULL, None)) for o in pdu.oids)
            return ber.enc_pdu(ber.RESPONSE, pdu.request_id, ERR_NOT_WRITABLE, 1, vbs)
        else:
            return None
        if len(vbs) > budget and pdu.tag != ber.GET_BULK:
            plain = b"".join(ber.enc_varbind(o, (ber.NULL, None)) for o in pdu.oids)
            return ber.enc_pdu(ber.RESPONSE, pdu.request_id, ERR_TOO_BIG, 0, plain)
        return ber.enc_pdu(ber.RESPONSE, pdu.request_id, 0, 0, vbs)

    @staticmethod
    def _get(tpl: MibTemplate, rt: DeviceRt, oid: OID) -> Value:
        value = tpl.get(rt, oid)
        if value is not None:
            return value
        i = tpl._node_at(oid)
        inside = i >= 0 and oid[: len(tpl.prefixes[i])] == tpl.prefixes[i]
        return (ber.NO_SUCH_INSTANCE if inside else ber.NO_SUCH_OBJECT, None)

    @staticmethod
    def _next(tpl: MibTemplate, rt: DeviceRt, oid: OID) -> tuple[OID, Value]:
        found = tpl.next(rt, oid)
        return found if found is not None else (oid, (ber.END_OF_MIB_VIEW, None))

    def _bulk(self, tpl: MibTemplate, rt: DeviceRt, pdu: ber.Pdu, budget: int) -> bytes:
        non_rep = max(0, min(pdu.error_status, len(pdu.oids)))
        max_rep = max(0, pdu.error_index)
        out = bytearray()
        for o in pdu.oids[:non_rep]:
            out += ber.enc_varbind(*self._next(tpl, rt, o))
        cursors = list(pdu.oids[non_rep:])
        count = non_rep
        for _ in range(max_rep):
            if not cursors:
                break
            row = bytearray()
            ended = 0
            for k, o in enumerate(cursors):
                nxt, value = self._next(tpl, rt, o)
                if value[0] == ber.END_OF_MIB_VIEW:
                    ended += 1
                cursors[k] = nxt
                row += ber.enc_varbind(nxt, value)
            if len(out) + len(row) > budget or count + len(cursors) > MAX_BULK_VARBINDS:
                break
            out += row
            count += len(cursors)
            if ended == len(cursors):
                break
        return bytes(out)


@dataclass(slots=True)
class _V3Ctx:
    msg_id: int
    max_size: int
    engine_id: bytes
    boots: int
    time: int
    user_name: bytes


def _template(rt: DeviceRt) -> MibTemplate:
    tpl = getattr(rt, "_mib", None)
    if tpl is None:
        tpl = template_for(rt)
        rt._mib = tpl  # type: ignore[attr-defined]
    return tpl  # type: ignore[no-any-return]

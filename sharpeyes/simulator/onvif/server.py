"""The ONVIF responder: one aiohttp server, one listening socket per camera address.

Design: a single low-level ``aiohttp.web.Server`` (one handler, no per-camera objects) behind one
``ServerRunner``, with one ``TCPSite`` per camera bound to the camera's own 127.x.y.z address. The
handler tells cameras apart by the local address the connection was accepted on, so each camera
is reached only at its own IP (other addresses refuse, as an absent host does on loopback), and
the per-camera cost is one socket and one small asyncio server.

Request handling follows what cameras do:
- operations are routed by the Body's first element (namespace + name), whatever the URL path;
- GetSystemDateAndTime is answered without authentication (clients need it to fix clock skew);
  GetCapabilities and GetServices too when no UsernameToken is sent (ONVIF PRE_AUTH class);
  everything else needs a valid WS-UsernameToken (see :mod:`sharpeyes.simulator.onvif.wsse`);
- unknown operations → ``ter:ActionNotSupported`` (Receiver, HTTP 500), as is GetSnapshotUri of a
  camera without snapshots (``DeviceState.snapshot`` False: the fault of the Hikvision capture
  oem-hikvision_ipg-8150pss/SoapFault.xml); configuration changes
  (Set*/Create*/Delete*/…) → ``ter:OperationProhibited`` (the simulated district is read-only);
  bad credentials → ``ter:NotAuthorized`` (Sender, HTTP 400, the SOAP 1.2 HTTP binding);
- a hung or powered-off camera accepts the connection and never answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import web
from lxml import etree

from sharpeyes.simulator.onvif import replies as r
from sharpeyes.simulator.onvif.dialects import NS, SOAP12, Dialect, dialect_for
from sharpeyes.simulator.onvif.snapshot import DigestGuard
from sharpeyes.simulator.onvif.wsse import AuthFailure, NonceCache, find_username_token, verify
from sharpeyes.simulator.state import Credentials, DeviceState
from sharpeyes.simulator.stills import Stills

__all__ = ["OnvifServers"]

log = logging.getLogger(__name__)

TDS, TRT = NS["tds"], NS["trt"]
WRITE_PREFIXES = ("Set", "Create", "Delete", "Add", "Remove", "SystemReboot", "StartFirmwareUpgrade",
                  "UpgradeSystemFirmware", "RestoreSystem", "StartSystemRestore")
PRE_AUTH = frozenset({(TDS, "GetCapabilities"), (TDS, "GetServices")})

# An operation handler: (servers, state, dialect, endpoint, request element) -> reply body or Fault
Handler = Callable[["OnvifServers", DeviceState, Dialect, r.Endpoint, Any], "r.Node | r.Fault"]


def _profile_index(state: DeviceState, d: Dialect, op: Any) -> int | r.Fault:
    token = (op.findtext(f"{{{TRT}}}ProfileToken") or "").strip()
    tokens = d.profile_tokens[:r.stream_count(state, d)]
    return tokens.index(token) if token in tokens else r.NO_PROFILE


def _with_profile(build: Callable[[DeviceState, Dialect, r.Endpoint, int], r.Node]) -> Handler:
    def handler(srv: OnvifServers, st: DeviceState, d: Dialect, ep: r.Endpoint, op: Any) -> r.Node | r.Fault:
        index = _profile_index(st, d, op)
        return index if isinstance(index, r.Fault) else build(st, d, ep, index)
    return handler


def _encoder_config(srv: OnvifServers, st: DeviceState, d: Dialect, ep: r.Endpoint,
                    op: Any) -> r.Node | r.Fault:
    token = (op.findtext(f"{{{TRT}}}ConfigurationToken") or "").strip()
    tokens = d.encoder_tokens[:r.stream_count(st, d)]
    if token not in tokens:
        return r.NO_CONFIG
    return r.get_video_encoder_configuration(st, d, tokens.index(token))


OPERATIONS: dict[tuple[str, str], Handler] = {
    (TDS, "GetSystemDateAndTime"): lambda srv, st, d, ep, op: r.get_system_date_and_time(st, d),
    (TDS, "GetDeviceInformation"): lambda srv, st, d, ep, op: r.get_device_information(st, d),
    (TDS, "GetCapabilities"): lambda srv, st, d, ep, op: r.get_capabilities(
        st, d, ep, [(c.text or "").strip() for c in op.findall(f"{{{TDS}}}Category")]),
    (TDS, "GetServices"): lambda srv, st, d, ep, op: r.get_services(st, d, ep),
    (TDS, "GetNetworkInterfaces"): lambda srv, st, d, ep, op: r.get_network_interfaces(st, d),
    (TRT, "GetProfiles"): lambda srv, st, d, ep, op: r.get_profiles(st, d),
    (TRT, "GetProfile"): _with_profile(lambda st, d, ep, i: r.get_profile(st, d, i)),
    (TRT, "GetVideoEncoderConfigurations"):
        lambda srv, st, d, ep, op: r.get_video_encoder_configurations(st, d),
    (TRT, "GetVideoEncoderConfiguration"): _encoder_config,
    (TRT, "GetStreamUri"): _with_profile(r.get_stream_uri),
    (TRT, "GetSnapshotUri"): lambda srv, st, d, ep, op: (
        _with_profile(r.get_snapshot_uri)(srv, st, d, ep, op) if st.snapshot else r.ACTION_NOT_SUPPORTED),
}


class OnvifServers:
    """ONVIF for many cameras. ``port``/``rtsp_port`` override every camera's own ports (tests)."""

    def __init__(self, states: Iterable[DeviceState], secrets: Mapping[str, Credentials], *,
                 port: int | None = None, rtsp_port: int | None = None, freshness_s: float = 300.0,
                 backlog: int = 64) -> None:
        self._states = [s for s in states if s.kind == "camera"]
        self._secrets = secrets
        self._port = port
        self._rtsp_port = rtsp_port
        self.freshness_s = freshness_s
        self._backlog = backlog
        self.nonces = NonceCache(ttl_s=2 * freshness_s)
        self._by_address: dict[tuple[str, int], tuple[DeviceState, r.Endpoint]] = {}
        for state in self._states:
            ep = r.Endpoint(state.ip, self.port_of(state),
                            state.rtsp_port if rtsp_port is None else rtsp_port)
            self._by_address[(state.ip, ep.http_port)] = (state, ep)
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                                       remove_pis=True, huge_tree=False)
        self._runner: web.ServerRunner | None = None
        self._closing = asyncio.Event()
        self.digest = DigestGuard()
        self.stills = Stills()

    def port_of(self, state: DeviceState) -> int:
        return state.onvif_port if self._port is None else self._port

    async def start(self) -> None:
        server = web.Server(self._handle, access_log=None)
        self._runner = web.ServerRunner(server, shutdown_timeout=0.5)
        await self._runner.setup()
        try:
            for (ip, port) in self._by_address:
                site = web.TCPSite(self._runner, host=ip, port=port, backlog=self._backlog,
                                   reuse_address=True)
                await site.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ HTTP
    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        found = self._by_address.get((sockname[0], sockname[1])) if sockname else None
        if found is None:
            raise web.HTTPNotFound()
        state, ep = found
        if not state.responsive:
            await self._stay_silent(request)
        if request.method == "GET":
            return await self._snapshot(request, state, ep)
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST", "GET"])
        body = await request.read()
        if not state.responsive:  # hung while the request was being read
            await self._stay_silent(request)
        dialect = dialect_for(state.vendor)
        status, payload = self.answer(state, dialect, ep, body)
        return web.Response(body=payload, status=status, content_type="application/soap+xml",
                            charset="utf-8", headers={"Server": dialect.server or "Webs"})

    async def _snapshot(self, request: web.BaseRequest, state: DeviceState, ep: r.Endpoint) -> web.StreamResponse:
        """GET of a snapshot URI (dialect path per profile): a still of the camera, Digest-protected."""
        d = dialect_for(state.vendor)
        paths = {d.snapshot_path.format(token=d.profile_tokens[i], index=i): i for i in range(r.stream_count(state, d))}
        index = paths.get(request.path_qs)
        if index is None or not state.snapshot:
            raise web.HTTPNotFound()
        creds = self._secrets.get(state.auth_profile)
        auth = request.headers.get("Authorization", "")
        if creds is None or state.credentials_broken or not self.digest.verify(auth, "GET", request.path_qs, creds):
            return web.Response(status=401, text="<html><body><h1>401 - Unauthorized</h1></body></html>",
                                content_type="text/html", headers={"WWW-Authenticate": self.digest.challenge()})
        stream = state.streams[index]
        fault = state.extra.get("image_fault")
        data = await asyncio.to_thread(self.stills.still, state.device_id, state.device_id, state.clock(),
                                       stream.width, stream.height, fault)
        return web.Response(body=data, content_type="image/jpeg", headers={"Server": d.server or "Webs"})

    async def _stay_silent(self, request: web.BaseRequest) -> None:
        """Never answer: hold the connection until the simulator shuts down, then drop it."""
        await self._closing.wait()
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    # ------------------------------------------------------------ SOAP (pure: bytes in, bytes out)
    def answer(self, state: DeviceState, d: Dialect, ep: r.Endpoint, body: bytes) -> tuple[int, bytes]:
        result = self._dispatch(state, d, ep, body)
        if isinstance(result, r.Fault):
            return result.http_status, r.fault_envelope(d, result)
        return 200, r.envelope(d, result)

    def _dispatch(self, state: DeviceState, d: Dialect, ep: r.Endpoint, body: bytes) -> r.Node | r.Fault:
        try:
            root = etree.fromstring(body, self._parser)
        except etree.XMLSyntaxError:
            return r.WELL_FORMED
        if etree.QName(root).localname != "Envelope":
            return r.WELL_FORMED
        if etree.QName(root).namespace != SOAP12:
            return r.VERSION_MISMATCH
        soap_body = root.find(f"{{{SOAP12}}}Body")
        if soap_body is None or len(soap_body) == 0:
            return r.WELL_FORMED
        op = soap_body[0]
        qname = etree.QName(op)
        key = (qname.namespace or "", qname.localname)
        handler = OPERATIONS.get(key)
        writes = qname.localname.startswith(WRITE_PREFIXES)
        if handler is None and not writes:
            return r.ACTION_NOT_SUPPORTED
        if key != (TDS, "GetSystemDateAndTime"):
            failure = self._authenticate(state, root.find(f"{{{SOAP12}}}Header"), pre_auth=key in PRE_AUTH)
            if failure is not None:
                log.debug("ONVIF %s %s refused: %s", state.device_id, qname.localname, failure.value)
                return r.NOT_AUTHORIZED
        if handler is None:
            return r.OPERATION_PROHIBITED
        return handler(self, state, d, ep, op)

    def _authenticate(self, state: DeviceState, header: Any, pre_auth: bool) -> AuthFailure | None:
        token = find_username_token(header)
        if token is None:
            return None if pre_auth else AuthFailure.MISSING
        if isinstance(token, AuthFailure):
            return token
        creds = self._secrets.get(state.auth_profile)
        if creds is None or state.credentials_broken:
            return AuthFailure.BAD_PASSWORD
        return verify(token, creds, state.clock(), self.freshness_s, self.nonces, state.device_id)

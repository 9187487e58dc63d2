"""The recorder responder: one aiohttp low-level server, one listening socket per recorder address,
the dialect chosen by the recorder's vendor (Hikvision → ISAPI, Dahua → CGI, others → ONVIF
Profile G). A powered-off, hung or ``recorder_down`` recorder accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from sharpeyes.simulator.network import World
from sharpeyes.simulator.state import Credentials

from . import replies as rp
from .digest import challenge, verify
from .truth import Files, RecorderTruth

log = logging.getLogger(__name__)
FILE_SECONDS = 1800.0
_TRACK = re.compile(rb"<trackID>(\d+)</trackID>")
_TAG = {name: re.compile(rf"<{name}>([^<]*)</{name}>".encode()) for name in
        ("startTime", "endTime", "maxResults", "searchResultPostion", "searchID")}


def dialect(vendor: str) -> str:
    v = vendor.lower()
    return "isapi" if v.startswith("hik") else "dahua" if v.startswith("dahua") else "onvif"


@dataclass(slots=True)
class Finder:
    recorder: str
    channel: int = 0
    pending: Files = field(default_factory=lambda: Files([], FILE_SECONDS))
    pos: int = 0  # files already handed out by findNextFile


class RecorderServers:
    def __init__(self, world: World, truth: RecorderTruth, credentials: Mapping[str, Credentials],
                 port: int = 80, file_seconds: float = FILE_SECONDS) -> None:
        self.world, self.truth, self.credentials = world, truth, credentials
        self.port, self.file_seconds = port, file_seconds
        self.by_ip = {rt.dev.ip: rec for rec, rt in ((r, world.devices[r]) for r in truth.channels)}
        self._runner: web.ServerRunner | None = None
        self._finders: dict[str, Finder] = {}
        self._searches: dict[str, tuple[str, list[str]]] = {}
        self._ids = itertools.count(1000)
        self.requests = 0
        self._closing = asyncio.Event()

    async def start(self) -> None:
        self._runner = web.ServerRunner(web.Server(self.handle, access_log=None))  # a line per search: MB an hour
        await self._runner.setup()
        for ip in self.by_ip:
            await web.TCPSite(self._runner, ip, self.port, backlog=512).start()
        log.info("recorders: %d serving on port %d", len(self.by_ip), self.port)

    async def close(self) -> None:
        self._closing.set()  # hung recorders stop holding their connections
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------------------------------
    async def handle(self, req: web.BaseRequest) -> web.StreamResponse:
        sock = req.transport.get_extra_info("sockname") if req.transport else None
        rec = self.by_ip.get(sock[0] if sock else "")
        if rec is None:
            return web.Response(status=404)
        rt = self.world.devices[rec]
        if not rt.state.responsive or rec in self.truth.faults("recorder_down"):
            await self._closing.wait()  # accepts, never answers (until the simulator stops)
            return web.Response(status=503)
        cred = self.credentials.get(rt.state.auth_profile)
        kind = dialect(rt.dev.vendor)
        realm = f"{rt.dev.model or 'NVR'}({rt.dev.serial[-5:]})"
        if cred is None or rt.state.credentials_broken or not verify(
                req.headers.get("Authorization"), req.method, realm, cred.username, cred.password):
            return web.Response(status=401, text="<html><body><h2>401 Unauthorized</h2></body></html>",
                                content_type="text/html", headers={"WWW-Authenticate": challenge(realm)})
        self.requests += 1
        body = await req.read()
        now = time.time()
        clock_offset = rt.state.clock_offset_s
        if kind == "isapi":
            return self.isapi(rec, req, body, now, clock_offset)
        if kind == "dahua":
            return self.dahua(rec, req, now, clock_offset)
        return self.onvif(rec, body, now, clock_offset)

    def held_files(self, rec: str, channel: int, lo: float, hi: float, now: float) -> Files:
        cam = self.truth.channels[rec].get(channel)
        if cam is None:
            return Files([], self.file_seconds)
        return Files(self.truth.held(rec, cam, lo, hi, now), self.file_seconds)

    # --- Hikvision ISAPI ------------------------------------------------------------------------
    def isapi(self, rec: str, req: web.BaseRequest, body: bytes, now: float, off: float) -> web.Response:
        xml = "application/xml"
        if req.path == "/ISAPI/System/status":
            return web.Response(text=rp.isapi_status(now + off), content_type=xml)
        if req.path == "/ISAPI/ContentMgmt/Storage":
            return web.Response(text=rp.isapi_storage(rec in self.truth.faults("disk_failed")), content_type=xml)
        if req.path == "/ISAPI/ContentMgmt/search" and req.method == "POST":
            try:
                track = int(_TRACK.search(body)[1])  # type: ignore[index]
                lo = rp.iso_time(_TAG["startTime"].search(body)[1].decode()) - off  # type: ignore[index]
                hi = rp.iso_time(_TAG["endTime"].search(body)[1].decode()) - off  # type: ignore[index]
                size = max(1, min(int(_TAG["maxResults"].search(body)[1]), 400))  # type: ignore[index]
                pos = int(_TAG["searchResultPostion"].search(body)[1])  # type: ignore[index]
                sid = _TAG["searchID"].search(body)[1].decode()  # type: ignore[index]
            except (TypeError, ValueError):
                return web.Response(status=400, text="<ResponseStatus><statusCode>4</statusCode></ResponseStatus>")
            found = self.held_files(rec, track // 100, lo, hi, now)
            page = [(s + off, e + off) for s, e in found[pos:pos + size]]
            more = pos + size < len(found)
            ip = self.world.devices[rec].dev.ip
            return web.Response(text=rp.isapi_search(sid, track, page, more, ip), content_type=xml)
        return web.Response(status=404, text="<ResponseStatus><statusCode>4</statusCode></ResponseStatus>")

    # --- Dahua CGI ------------------------------------------------------------------------------
    def dahua(self, rec: str, req: web.BaseRequest, now: float, off: float) -> web.Response:
        q = req.query
        action = q.get("action", "")
        if req.path == "/cgi-bin/global.cgi" and action == "getCurrentTime":
            return web.Response(text=f"result={rp.dahua_time(now + off)}\r\n")
        if req.path == "/cgi-bin/storageDevice.cgi" and action == "getDeviceAllInfo":
            return web.Response(text=rp.dahua_storage(rec in self.truth.faults("disk_failed")))
        if req.path != "/cgi-bin/mediaFileFind.cgi":
            return web.Response(text="Error\r\nBad Request!\r\n", status=400)
        obj = q.get("object", "")
        if action == "factory.create":
            oid = str(next(self._ids))
            self._finders[oid] = Finder(rec)
            return web.Response(text=f"result={oid}\r\n")
        finder = self._finders.get(obj)
        if finder is None or finder.recorder != rec:
            return web.Response(text="Error\r\nErrorID=2, Detail=Invalid Request!\r\n")
        if action == "findFile":
            try:
                ch = int(q["condition.Channel"])
                lo = rp.dahua_parse_time(q["condition.StartTime"]) - off
                hi = rp.dahua_parse_time(q["condition.EndTime"]) - off
            except (KeyError, ValueError):
                return web.Response(text="Error\r\nErrorID=1, Detail=Bad Parameter!\r\n")
            finder.channel = ch
            finder.pending, finder.pos = self.held_files(rec, ch, lo, hi, now), 0
            if not len(finder.pending):
                return web.Response(text="Error\r\nErrorID=3, Detail=No Record!\r\n")
            return web.Response(text="OK\r\n")
        if action == "findNextFile":
            count = max(1, min(int(q.get("count", "100") or 100), 100))
            page = finder.pending[finder.pos:finder.pos + count]
            finder.pos += len(page)
            return web.Response(text=rp.dahua_files(finder.channel, [(s + off, e + off) for s, e in page]))
        if action in ("close", "factory.close"):
            return web.Response(text="OK\r\n")
        if action == "factory.destroy":
            self._finders.pop(obj, None)
            return web.Response(text="OK\r\n")
        return web.Response(text="Error\r\nErrorID=2, Detail=Invalid Request!\r\n")

    # --- ONVIF Profile G ------------------------------------------------------------------------
    def onvif(self, rec: str, body: bytes, now: float, off: float) -> web.Response:
        ctype = "application/soap+xml"
        op = rp.body_op(body)
        if op is None:
            return web.Response(status=400, text=rp.onvif_fault("Sender", "ter:WellFormed", "not well-formed"),
                                content_type=ctype)
        name = op.tag.split("}")[-1] if isinstance(op.tag, str) else ""
        chans = self.truth.channels[rec]
        tokens = {f"REC_{ch:03d}": ch for ch in chans}
        if name == "GetSystemDateAndTime":
            return web.Response(text=rp.onvif_clock(now + off), content_type=ctype)
        if name == "GetRecordingSummary":
            oldest = self.truth.oldest(rec, now)
            return web.Response(text=rp.soap(
                f"<tse:GetRecordingSummaryResponse><tse:Summary><tt:DataFrom>{rp.onvif_time(oldest + off)}"
                f"</tt:DataFrom><tt:DataUntil>{rp.onvif_time(now + off)}</tt:DataUntil><tt:NumberRecordings>"
                f"{len(tokens)}</tt:NumberRecordings></tse:Summary></tse:GetRecordingSummaryResponse>"),
                content_type=ctype)
        if name == "FindRecordings":
            oldest = self.truth.oldest(rec, now)
            results = [
                f"<tt:RecordingInformation><tt:RecordingToken>{tok}</tt:RecordingToken><tt:Source><tt:SourceId>"
                f"VideoSource_{ch}</tt:SourceId><tt:Name>CH{ch}</tt:Name><tt:Location/><tt:Description/><tt:Address/>"
                f"</tt:Source><tt:EarliestRecording>{rp.onvif_time(oldest + off)}</tt:EarliestRecording>"
                f"<tt:LatestRecording>{rp.onvif_time(now + off)}</tt:LatestRecording><tt:Content/>"
                "<tt:RecordingStatus>Recording</tt:RecordingStatus></tt:RecordingInformation>"
                for tok, ch in sorted(tokens.items())]
            return self._session(rec, "FindRecordings", "Recording", results, ctype)
        if name == "FindEvents":
            tok = rp.child_text(op, "IncludedRecordings")
            ch = tokens.get(tok)
            try:
                lo = rp.iso_time(rp.child_text(op, "StartPoint")) - off
                hi = rp.iso_time(rp.child_text(op, "EndPoint")) - off
            except ValueError:
                ch = None
            if ch is None:
                return web.Response(status=400, text=rp.onvif_fault("Sender", "ter:InvalidArgVal", "bad scope"),
                                    content_type=ctype)
            cam = chans[ch]
            held = self.truth.held(rec, cam, lo, hi, now)
            events = [rp.state_event(tok, lo + off, bool(held) and held[0][0] <= lo, True)]
            for s, e in held:
                if s > lo:
                    events.append(rp.state_event(tok, s + off, True, False))
                if e < min(hi, now):
                    events.append(rp.state_event(tok, e + off, False, False))
            return self._session(rec, "FindEvents", "Event", events, ctype)
        if name in ("GetRecordingSearchResults", "GetEventSearchResults"):
            token = rp.child_text(op, "SearchToken")
            size = int(rp.child_text(op, "MaxResults") or "100")
            sess = self._searches.get(token)
            if sess is None or sess[0] != rec:
                return web.Response(status=400, text=rp.onvif_fault("Sender", "ter:InvalidArgVal", "no such search"),
                                    content_type=ctype)
            page, rest = sess[1][:size], sess[1][size:]
            self._searches[token] = (rec, rest)
            state = "Searching" if rest else "Completed"
            return web.Response(text=rp.soap(f"<tse:{name}Response><tse:ResultList><tt:SearchState>{state}"
                                             f"</tt:SearchState>{''.join(page)}</tse:ResultList></tse:{name}Response>"),
                                content_type=ctype)
        if name == "EndSearch":
            self._searches.pop(rp.child_text(op, "SearchToken"), None)
            return web.Response(text=rp.soap(f"<tse:EndSearchResponse><tse:Endpoint>{rp.onvif_time(now + off)}"
                                             "</tse:Endpoint></tse:EndSearchResponse>"), content_type=ctype)
        return web.Response(status=500, text=rp.onvif_fault("Receiver", "ter:ActionNotSupported", name),
                            content_type=ctype)

    def _session(self, rec: str, op: str, kind: str, results: list[str], ctype: str) -> web.Response:
        token = f"{kind}Search{next(self._ids)}"
        self._searches[token] = (rec, results)
        return web.Response(text=rp.soap(f"<tse:{op}Response><tse:SearchToken>{token}</tse:SearchToken>"
                                         f"</tse:{op}Response>"), content_type=ctype)

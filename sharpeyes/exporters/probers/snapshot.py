"""Snapshot prober: one still per camera, judged by video quality diagnosis (sharpeyes.vqd).

Order of a probe:
1. ONVIF GetSystemDateAndTime (its offset shifts WS-Security Created, as in the onvif prober),
   Media GetProfiles, then GetSnapshotUri of the first profile (the main stream: the
   sharpest picture the camera has), through the same ONVIF transport as the onvif prober
   (WS-Security, clock offset); the URI is cached per camera for ``uri_ttl`` seconds;
2. HTTP GET of the still at the camera's own address (``snapshot.http.snapshot_target``) with the
   camera's ONVIF credentials, Basic or Digest, at most ``max_bytes``;
3. decode (reduced) and every check against this camera's baseline from the state directory, in
   a worker thread, at most ``analysis_concurrency`` at a time; the still teaches the baseline and
   is kept as ``last.jpg`` (the exporter serves it at /vqd/<device>/last.jpg).
A camera without a snapshot URI (ter:ActionNotSupported or an empty URI, in Media and Media2) is
asked for the same profile's GetStreamUri instead, and one H.264 key frame of that RTSP stream is
read (``snapshot.rtsp_keyframe``: RTP over the RTSP connection, at most ``max_bytes`` read),
decoded with PyAV in the worker thread and judged like a still; ``last.jpg`` is then its JPEG.
``sharpeyes_vqd_snapshot_source_info{source="http"|"rtsp"}`` says which path supplied the still.
A failure at any step is a ProbeError with its reason; a still that cannot be decoded (truncated,
HTML, an error page) is ``malformed``. Fetch duration and size are reported even then.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import OnvifError, OnvifNotSupportedError
from sharpeyes.exporters.onvif.pool import OnvifPool
from sharpeyes.exporters.onvif.quirks import clock_offset_seconds
from sharpeyes.exporters.onvif.transport import TransportFactory
from sharpeyes.exporters.probers.base import MetricWriter, Module, ProbeError, Target
from sharpeyes.exporters.probers.icmp import check, strict_settings
from sharpeyes.exporters.probers.onvif import _DefaultFactory
from sharpeyes.exporters.snapshot.http import FetchError, fetch_still, snapshot_target
from sharpeyes.exporters.snapshot.rtsp_keyframe import decode_keyframe, fetch_keyframe, stream_target

log = logging.getLogger(__name__)
DEFAULT_STATE_DIR = "var/vqd"


@dataclass(frozen=True, slots=True)
class SnapshotSettings:
    state_dir: str = DEFAULT_STATE_DIR  # baselines and stills, one directory per camera
    max_bytes: int = 8 * 1024 * 1024  # a 4K still is ~1-2 MB; anything above is not a snapshot
    analysis_concurrency: int = 2  # decodes+checks at once (CPU bound: about one per core)
    uri_ttl: float = 3600.0  # seconds a camera's snapshot URI is reused
    profile: int = 0  # which ONVIF profile's snapshot (0 = the first, the main stream)

    def __post_init__(self) -> None:
        check(self.max_bytes >= 1024, "max_bytes", "must be >= 1024")
        check(self.analysis_concurrency >= 1, "analysis_concurrency", "must be >= 1")
        check(self.uri_ttl >= 0, "uri_ttl", "must be >= 0")
        check(self.profile >= 0, "profile", "must be >= 0")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> SnapshotSettings:
        return strict_settings(cls, d, where)


class SnapshotProber:
    def __init__(self, factory: TransportFactory | None = None, max_cameras: int = 4096) -> None:
        self.pool = OnvifPool(factory or _DefaultFactory(), max_cameras)
        self._uris: dict[str, tuple[str, str, float]] = {}  # camera -> (source, URI, when asked)
        self._session: aiohttp.ClientSession | None = None
        self._analysis: dict[int, asyncio.Semaphore] = {}
        self._camera_locks: dict[str, threading.Lock] = {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, force_close=True),
                auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def __call__(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        s: SnapshotSettings = module.settings or SnapshotSettings()
        auth = target.auth if isinstance(target.auth, OnvifAuth) else None
        try:
            async with asyncio.timeout(timeout):
                still = await self._fetch(target, auth, s)
        except TimeoutError:
            raise ProbeError("timeout", f"snapshot probe exceeded {timeout:g}s") from None
        except FetchError as exc:
            raise ProbeError(exc.reason, exc.detail) from None
        except OnvifError as exc:
            raise ProbeError(exc.reason, str(exc)) from None
        out.gauge("sharpeyes_vqd_snapshot_fetch_duration_seconds",
                  "Time to fetch the still (HTTP) or one key frame (RTSP), in seconds.", still.seconds)
        out.gauge("sharpeyes_vqd_snapshot_size_bytes", "Bytes read to get the still.", still.size)
        out.gauge("sharpeyes_vqd_snapshot_source_info", "Where the still came from: http (the ONVIF snapshot "
                  "URI) or rtsp (a key frame of the main stream).", 1, {"source": still.source})
        sem = self._analysis.setdefault(s.analysis_concurrency, asyncio.Semaphore(s.analysis_concurrency))
        async with sem:
            result = await asyncio.to_thread(self._judge, target.id, still, s)
        if isinstance(result, ProbeError):
            raise result
        write_diagnosis(out, result)
        return True

    async def _fetch(self, target: Target, auth: OnvifAuth | None, s: SnapshotSettings) -> _Still:
        user, password = (auth.username, auth.password) if auth else ("", "")
        source, uri = await self._uri(target, auth, s)
        if source == "rtsp":
            url = stream_target(uri, target.ip, target.rtsp_port)
            frame = await fetch_keyframe(url, user, password, s.max_bytes)
            return _Still("rtsp", frame.seconds, frame.size, None, frame.units)
        fetched = await fetch_still(self._http(), snapshot_target(uri, target.ip), user, password, s.max_bytes)
        return _Still("http", fetched.seconds, len(fetched.body), fetched.body, ())

    async def _uri(self, target: Target, auth: OnvifAuth | None, s: SnapshotSettings) -> tuple[str, str]:
        """("http", snapshot URI) or, for a camera without one, ("rtsp", main stream URI)."""
        cached = self._uris.get(target.id)
        if cached is not None and time.monotonic() - cached[2] < s.uri_ttl:
            return cached[0], cached[1]
        async with self.pool.borrow(target.id, target.ip, target.onvif_port, auth) as session:
            # WS-Security Created must fall in the camera's window: shift it by the camera's clock
            session.transport.set_clock_offset(clock_offset_seconds(await session.transport.system_date_and_time()))
            profiles = await session.transport.profiles()
            if len(profiles) <= s.profile:
                raise ProbeError("protocol", f"camera has {len(profiles)} ONVIF profiles, wanted #{s.profile}")
            token = profiles[s.profile].token
            try:
                source, uri = "http", await session.transport.snapshot_uri(token)
            except OnvifNotSupportedError:
                uri = ""
            if not uri:  # no snapshot: one key frame of the same profile's stream instead
                source, uri = "rtsp", await session.transport.stream_uri(token)
        if not uri:
            raise ProbeError("protocol", "camera has neither an ONVIF snapshot URI nor a stream URI")
        self._uris[target.id] = (source, uri, time.monotonic())
        return source, uri

    def _judge(self, camera: str, still: _Still, s: SnapshotSettings) -> Any:
        from sharpeyes.vqd import Frame, StillError, decode_still

        try:
            if still.jpeg is not None:
                picture, jpeg = decode_still(still.jpeg), still.jpeg
            else:
                picture, jpeg = keyframe_picture(still.units)
        except StillError as exc:
            return ProbeError("malformed", f"snapshot {exc}")
        except FetchError as exc:
            return ProbeError(exc.reason, exc.detail)
        return self._learn(camera, Frame(picture), jpeg, s)

    def _learn(self, camera: str, frame: Any, jpeg: bytes, s: SnapshotSettings) -> _Result:
        from sharpeyes.vqd import analyze, learn
        from sharpeyes.vqd.store import BaselineStore

        store = BaselineStore(s.state_dir)
        lock = self._camera_locks.setdefault(camera, threading.Lock())
        with lock:
            now = time.time()
            baseline = store.load(camera, now)
            diagnosis = analyze(frame, baseline, now)
            learn(baseline, frame, diagnosis, now, jpeg)
            store.save(baseline, jpeg)
        return _Result(diagnosis, now - baseline.created)

    async def aclose(self) -> None:
        await self.pool.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(frozen=True, slots=True)
class _Still:
    source: str  # http | rtsp
    seconds: float
    size: int  # bytes read
    jpeg: bytes | None  # the still as fetched (http)
    units: tuple[bytes, ...]  # SPS, PPS and the IDR access unit (rtsp)


def keyframe_picture(units: tuple[bytes, ...]) -> tuple[Any, bytes]:
    """(picture for Frame, JPEG kept as last.jpg) of an H.264 key frame."""
    import cv2

    from sharpeyes.vqd.decode import DETAIL_WIDTH, resize_to

    bgr = decode_keyframe(units)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise FetchError("malformed", "the decoded key frame does not encode as JPEG")
    return resize_to(bgr, DETAIL_WIDTH), buf.tobytes()


@dataclass(frozen=True, slots=True)
class _Result:
    diagnosis: Any  # sharpeyes.vqd.Diagnosis
    baseline_age: float


def write_diagnosis(out: MetricWriter, result: _Result) -> None:
    d = result.diagnosis
    out.gauge("sharpeyes_vqd_image_intact", "1 if no image check found a fault in the last still, else 0.",
              1 if d.intact else 0)
    out.gauge("sharpeyes_vqd_night_mode", "1 if the still is a monochrome (night infrared) picture.",
              1 if d.mode == "night" else 0)
    out.gauge("sharpeyes_vqd_baseline_ready",
              "1 if this camera's baseline for the still's light mode is learnt (relative checks judge).",
              1 if d.baseline_ready else 0)
    out.gauge("sharpeyes_vqd_baseline_age_seconds", "Seconds since this camera's baseline started learning.",
              max(0.0, result.baseline_age))
    for name, f in d.findings.items():
        labels = {"check": name}
        if f.score == f.score:  # not NaN
            out.gauge("sharpeyes_vqd_check_score", "Score of an image check (unit depends on the check).",
                      f.score, labels)
        out.gauge("sharpeyes_vqd_check_threshold", "Threshold the check's score is compared with.",
                  f.threshold, labels)
        if f.fault is not None:
            out.gauge("sharpeyes_vqd_check_fault", "1 if the image check found its fault, 0 if not "
                      "(absent: not judged).", 1 if f.fault else 0, labels)


# The process-wide prober the registry uses; ``await probe.aclose()`` on shutdown.
probe = SnapshotProber()

"""Hikvision ISAPI: device clock from /ISAPI/System/status, disks from /ISAPI/ContentMgmt/Storage,
recorded segments from /ISAPI/ContentMgmt/search (CMSearchDescription, paged through matchList).

Quirks, each pinned by a capture in tests/fixtures/recording/isapi (SOURCES.tsv):
- the schema namespace varies with firmware (urn:psialliance-org, hikvision.com/ver20, isapi.org):
  every lookup is by local name;
- the paging field is spelled ``searchResultPostion`` (sic) and the page carries
  ``responseStatusStrg`` MORE until the last page (OK / NO MATCHES);
- a 401 arrives as an HTML page with a Digest challenge, not XML.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

from .intervals import Interval, normalize
from .job import Job, clock_offset
from .model import Channel, CollectError, Disk, RecorderResult
from .transport import Transport, check
from .xmlutil import find, findall, parse, parse_time, text

SEARCH = "/ISAPI/ContentMgmt/search"
STATUS = "/ISAPI/System/status"
STORAGE = "/ISAPI/ContentMgmt/Storage"
MB = 1024 * 1024


def track_id(channel: int) -> int:
    """Main-stream recording track of a channel: 101 for channel 1, 201 for channel 2, …"""
    return channel * 100 + 1


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def search_body(track: int, start: float, end: float, position: int, size: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<CMSearchDescription>'
        f"<searchID>{uuid.uuid4()}</searchID>"
        f"<trackList><trackID>{track}</trackID></trackList>"
        f"<timeSpanList><timeSpan><startTime>{iso(start)}</startTime><endTime>{iso(end)}</endTime>"
        "</timeSpan></timeSpanList>"
        f"<maxResults>{size}</maxResults>"
        f"<searchResultPostion>{position}</searchResultPostion>"
        "<metadataList><metadataDescriptor>//recordType.meta.std-cgi.com</metadataDescriptor></metadataList>"
        "</CMSearchDescription>"
    ).encode()


def parse_search(body: bytes, tz: str) -> tuple[str, list[Interval]]:
    """(responseStatusStrg, segments) of one CMSearchResult page."""
    root = parse(body, "ContentMgmt/search")
    status = (text(root, "responseStatusStrg") or "").upper()
    if not status:
        raise CollectError("malformed", "ContentMgmt/search: no responseStatusStrg")
    segs: list[Interval] = []
    matches = find(root, "matchList")
    for item in findall(matches, "searchMatchItem") if matches is not None else []:
        span = find(item, "timeSpan")
        segs.append((parse_time(text(span, "startTime"), tz, "searchMatchItem startTime"),
                     parse_time(text(span, "endTime"), tz, "searchMatchItem endTime")))
    return status, segs


def parse_device_time(body: bytes, tz: str) -> float:
    return parse_time(text(parse(body, "System/status"), "currentDeviceTime"), tz, "currentDeviceTime")


def disk_state(status: str) -> str:
    s = status.strip().lower()
    if s in ("ok", "normal"):
        return "ok"
    if s in ("error", "smarterror", "smartfailed", "offline", "failed", "abnormal"):
        return "failed"
    if s == "unformatted":
        return "unformatted"
    if s in ("sleeping", "idle"):
        return "sleeping"
    return "other"


def parse_storage(body: bytes) -> list[Disk]:
    """hddList/hdd: status, capacity and freeSpace in MB."""
    root = parse(body, "ContentMgmt/Storage")
    disks: list[Disk] = []
    hdds = find(root, "hddList")
    for hdd in findall(hdds, "hdd") if hdds is not None else []:
        raw = text(hdd, "status") or ""
        cap, free = text(hdd, "capacity"), text(hdd, "freeSpace")
        disks.append(Disk(
            id=text(hdd, "id") or str(len(disks) + 1), state=disk_state(raw), raw=raw[:40],
            capacity_bytes=float(cap) * MB if cap and cap.isdigit() else None,
            free_bytes=float(free) * MB if free and free.isdigit() else None,
        ))
    return disks


async def search(t: Transport, job: Job, channel: int, start: float, end: float,
                 first_only: bool = False) -> tuple[list[Interval], Counter[str]]:
    """Every segment of a channel in [start, end) (recorder clock), paging until the last page."""
    segs: list[Interval] = []
    position = 0
    size = 1 if first_only else job.limits.page_size
    for _ in range(job.limits.max_pages):
        reply = check(await t.request("POST", SEARCH, body=search_body(track_id(channel), start, end, position,
                                                                         size),
                                      headers={"Content-Type": "application/xml"}), SEARCH)
        status, page = parse_search(reply.body, job.tz)
        segs.extend(page)
        if first_only or status != "MORE":
            return segs, Counter()
        if not page:
            raise CollectError("paging", f"{SEARCH}: MORE with no matches at position {position}")
        position += len(page)
    raise CollectError("paging", f"{SEARCH}: still MORE after {job.limits.max_pages} pages")


async def collect(t: Transport, job: Job) -> RecorderResult:
    res = RecorderResult(job.recorder, job.dialect, (job.start, job.end))
    device_now = parse_device_time(check(await t.request("GET", STATUS), STATUS).body, job.tz)
    res.clock_offset = offset = clock_offset(device_now, job.now)
    res.disks = parse_storage(check(await t.request("GET", STORAGE), STORAGE).body)
    res.up = True
    for ch in job.channels:
        out = res.channels[ch] = Channel(ch)
        try:
            raw, _ = await search(t, job, ch, job.start + offset, job.end + offset)
            merged, out.problems = normalize(((s - offset, e - offset) for s, e in raw), job.limits.join_seconds)
            out.covered = merged
            first, _ = await search(t, job, ch, job.now + offset - job.limits.history_days * 86400,
                                    job.end + offset, first_only=True)
            out.oldest = min(s for s, _ in first) - offset if first else None
        except CollectError as e:
            out.error = e.reason
            out.problems[e.reason] += 1
            if e.reason in ("auth", "timeout", "connect"):
                raise
    return res

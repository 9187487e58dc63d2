"""Dahua HTTP CGI: clock from global.cgi getCurrentTime, disks from storageDevice.cgi getDeviceAllInfo,
recorded files from mediaFileFind.cgi (factory.create → findFile → findNextFile… → close → destroy).

Replies are ``key=value`` lines (CRLF). Quirks pinned by the captures in tests/fixtures/recording/dahua:
- factory.create answers ``result=<object id>``; findFile answers ``OK``;
- findNextFile answers ``found=N`` and ``items[i].StartTime/EndTime`` in the recorder's local time
  without a zone; pages may hold fewer files than asked for before the end, only ``found=0`` ends,
  and ``found`` may exceed the items listed (the items are what counts);
- factory.close and factory.destroy may answer ``Error`` / ``ErrorID=2, Detail=Invalid Request!`` with
  HTTP 200 on firmware that closes the finder itself: harmless, not a failure of the collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from zoneinfo import ZoneInfo

from .intervals import Interval, normalize
from .job import Job, clock_offset
from .model import Channel, CollectError, Disk, RecorderResult
from .transport import Transport, check
from .xmlutil import parse_time

FIND = "/cgi-bin/mediaFileFind.cgi"
CLOCK = "/cgi-bin/global.cgi"
STORAGE = "/cgi-bin/storageDevice.cgi"
MAX_LINES = 100_000
_ITEM = re.compile(r"^items\[(\d+)\]\.(StartTime|EndTime)$")
_INFO = re.compile(r"^list\.info\[(\d+)\]\.(?:(State|Name)|Detail\[(\d+)\]\.(TotalBytes|UsedBytes|IsError))$")


def kv(body: bytes, what: str) -> dict[str, str]:
    """``key=value`` lines; a reply starting with ``Error`` raises with the recorder's detail."""
    lines = body.decode("utf-8", errors="replace").splitlines()
    if len(lines) > MAX_LINES:
        raise CollectError("too_large", f"{what}: more than {MAX_LINES} lines")
    if lines and lines[0].strip() == "Error":
        detail = " ".join(x.strip() for x in lines[1:2])[:80]
        raise CollectError("http", f"{what}: recorder answered Error ({detail})")
    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def local_time(t: float, tz: str) -> str:
    """The recorder's wall-clock form of ``t`` (findFile conditions carry no zone)."""
    return dt.datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def parse_files(fields: dict[str, str], tz: str) -> tuple[int, list[Interval]]:
    """(found, segments) of one findNextFile reply."""
    if "found" not in fields or not fields["found"].isdigit():
        raise CollectError("malformed", "mediaFileFind findNextFile: no found=N")
    found = int(fields["found"])
    spans: dict[int, dict[str, str]] = {}
    for key, value in fields.items():
        m = _ITEM.match(key)
        if m:
            spans.setdefault(int(m[1]), {})[m[2]] = value
    if found and not spans:
        raise CollectError("malformed", f"mediaFileFind findNextFile: found={found} but no items")
    segs = [(parse_time(s.get("StartTime"), tz, "items StartTime"), parse_time(s.get("EndTime"), tz, "items EndTime"))
            for _, s in sorted(spans.items())]
    return found, segs


def parse_clock(fields: dict[str, str], tz: str) -> float:
    return parse_time(fields.get("result"), tz, "getCurrentTime")


def disk_state(state: str, errors: bool) -> str:
    s = state.lower()
    if errors or s in ("error", "failure", "fault", "unknown device"):
        return "failed"
    if s in ("success", "normal", "active", "running"):
        return "ok"
    if s in ("sleep", "sleeping", "hibernate"):
        return "sleeping"
    if s in ("unformatted", "notformatted"):
        return "unformatted"
    return "other"


def parse_storage(fields: dict[str, str]) -> list[Disk]:
    info: dict[int, dict[str, str]] = {}
    sizes: dict[int, dict[str, float]] = {}
    errors: dict[int, bool] = {}
    for key, value in fields.items():
        m = _INFO.match(key)
        if not m:
            continue
        i = int(m[1])
        if m[2]:
            info.setdefault(i, {})[m[2]] = value
        elif m[4] == "IsError":
            errors[i] = errors.get(i, False) or value.lower() == "true"
        else:
            try:
                sizes.setdefault(i, {})[m[4]] = sizes.get(i, {}).get(m[4], 0.0) + float(value)
            except ValueError:
                raise CollectError("malformed", f"storageDevice: {key} is not a number") from None
    disks = []
    for i in sorted(set(info) | set(sizes) | set(errors)):
        raw = info.get(i, {}).get("State", "")
        total, used = sizes.get(i, {}).get("TotalBytes"), sizes.get(i, {}).get("UsedBytes")
        disks.append(Disk(info.get(i, {}).get("Name", str(i)), disk_state(raw, errors.get(i, False)), raw[:40],
                          total, total - used if total is not None and used is not None else None))
    return disks


async def find(t: Transport, job: Job, channel: int, start: float, end: float,
               first_only: bool = False) -> list[Interval]:
    """Every file of a channel in [start, end) (recorder clock) through one finder object."""
    created = kv(check(await t.request("GET", FIND, params={"action": "factory.create"}), FIND).body, FIND)
    obj = created.get("result", "")
    if not obj.isdigit():
        raise CollectError("malformed", f"{FIND} factory.create: no result=<id>")
    try:
        params = {"action": "findFile", "object": obj, "condition.Channel": str(channel),
                  "condition.StartTime": local_time(start, job.tz), "condition.EndTime": local_time(end, job.tz)}
        reply = check(await t.request("GET", FIND, params=params), FIND)
        if reply.text.strip().startswith("Error"):
            return []  # findFile refuses when nothing matches the condition
        segs: list[Interval] = []
        count = "1" if first_only else str(job.limits.page_size)
        for _ in range(job.limits.max_pages):
            page = kv(check(await t.request("GET", FIND, params={"action": "findNextFile", "object": obj,
                                                                 "count": count}), FIND).body, FIND)
            found, files = parse_files(page, job.tz)
            segs.extend(files)
            if first_only or found == 0:  # a short page is not the end: only found=0 is
                return segs
        raise CollectError("paging", f"{FIND}: findNextFile still returning files after {job.limits.max_pages} pages")
    finally:
        task = asyncio.current_task()
        if task is None or not task.cancelling():  # a timed-out recorder is not asked anything more
            for action in ("close", "destroy"):
                with contextlib.suppress(CollectError):
                    await t.request("GET", FIND, params={"action": f"factory.{action}", "object": obj})


async def collect(t: Transport, job: Job) -> RecorderResult:
    res = RecorderResult(job.recorder, job.dialect, (job.start, job.end))
    clock = kv(check(await t.request("GET", CLOCK, params={"action": "getCurrentTime"}), CLOCK).body, CLOCK)
    res.clock_offset = offset = clock_offset(parse_clock(clock, job.tz), job.now)
    storage = check(await t.request("GET", STORAGE, params={"action": "getDeviceAllInfo"}), STORAGE)
    res.disks = parse_storage(kv(storage.body, STORAGE))
    res.up = True
    for ch in job.channels:
        out = res.channels[ch] = Channel(ch)
        try:
            raw = await find(t, job, ch, job.start + offset, job.end + offset)
            out.covered, out.problems = normalize(((s - offset, e - offset) for s, e in raw), job.limits.join_seconds)
            first = await find(t, job, ch, job.now + offset - job.limits.history_days * 86400, job.end + offset,
                               first_only=True)
            out.oldest = first[0][0] - offset if first else None
        except CollectError as e:
            out.error = e.reason
            out.problems[e.reason] += 1
            if e.reason in ("auth", "timeout", "connect"):
                raise
    return res

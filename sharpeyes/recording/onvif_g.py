"""ONVIF Profile G (recording search), written from the published specification because no public
capture of these replies could be found: onvif/specs wsdl/ver10/search.wsdl (FindRecordings,
GetRecordingSearchResults, GetRecordingSummary, FindEvents, GetEventSearchResults, EndSearch),
wsdl/ver10/schema/onvif.xsd (FindRecordingResultList, RecordingInformation, FindEventResultList) and
the Recording Search specification's RecordingHistory/Track/State event with its ``IsDataPresent``
item, which marks where a track holds data. Authentication is HTTP Digest, which the ONVIF Core
specification requires of every device (done by the transport). The device clock comes from
GetSystemDateAndTime (real captures in ../shared/fixtures/onvif).

Profile G has no channel numbers. Channel n is the recording whose RecordingToken ends in the number
n when every token ends in a distinct number (``REC_007``, ``Recording_7``); otherwise the n-th
recording in natural token order (one recording per camera source).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

from lxml import etree

from .intervals import Interval, normalize
from .job import Job, clock_offset
from .model import Channel, CollectError, RecorderResult
from .transport import Transport, check
from .xmlutil import find, findall, local, parse, parse_time, text

DEVICE = "/onvif/device_service"
SEARCH = "/onvif/search_service"
TSE = "http://www.onvif.org/ver10/search/wsdl"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TOPIC = "tns1:RecordingHistory/Track/State"


def envelope(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            f'xmlns:tse="{TSE}" xmlns:tds="{TDS}" xmlns:tt="http://www.onvif.org/ver10/schema">'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


async def call(t: Transport, path: str, ns: str, op: str, body: str) -> etree._Element:
    """One SOAP call; a Fault is an error naming the operation, the Body's first child is returned."""
    reply = await t.request("POST", path, body=envelope(body),
                            headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{ns}/{op}"'})
    if reply.status in (400, 500) and b"Fault" in reply.body:
        root = parse(reply.body, op)
        reason = text(find(root, "Body", "Fault", "Reason", "Text")) or "SOAP Fault"
        raise CollectError("http", f"{op}: {reason[:80]}")
    root = parse(check(reply, op).body, op)
    body_el = find(root, "Body")
    if body_el is None or len(body_el) == 0:
        raise CollectError("malformed", f"{op}: no SOAP Body")
    return body_el[0]


def parse_device_time(resp: etree._Element) -> float:
    utc = find(resp, "SystemDateAndTime", "UTCDateTime")
    if utc is None:
        raise CollectError("malformed", "GetSystemDateAndTime: no UTCDateTime")
    d, tm = find(utc, "Date"), find(utc, "Time")
    try:
        y, mo, da = (int(text(d, k) or "") for k in ("Year", "Month", "Day"))
        h, mi, se = (int(text(tm, k) or "") for k in ("Hour", "Minute", "Second"))
    except ValueError:
        raise CollectError("malformed", "GetSystemDateAndTime: UTCDateTime is not numeric") from None
    return parse_time(f"{y:04d}-{mo:02d}-{da:02d}T{h:02d}:{mi:02d}:{se:02d}Z", "UTC", "UTCDateTime")


def parse_recordings(result_list: etree._Element) -> list[tuple[str, float | None]]:
    """(RecordingToken, EarliestRecording) of every RecordingInformation on one results page."""
    out = []
    for info in findall(result_list, "RecordingInformation"):
        token = text(info, "RecordingToken")
        if not token:
            raise CollectError("malformed", "RecordingInformation without RecordingToken")
        earliest = text(info, "EarliestRecording")
        out.append((token, parse_time(earliest, "UTC", "EarliestRecording") if earliest else None))
    return out


def parse_events(result_list: etree._Element) -> list[tuple[str, float, bool]]:
    """(RecordingToken, time, IsDataPresent) of every RecordingHistory/Track/State result."""
    out = []
    for res in findall(result_list, "Result"):
        token = text(res, "RecordingToken") or ""
        when = parse_time(text(res, "Time"), "UTC", "Result Time")
        present: bool | None = None
        for item in res.iter():
            if local(item) == "SimpleItem" and item.get("Name") == "IsDataPresent":
                present = (item.get("Value") or "").strip().lower() == "true"
        if present is None:
            continue  # another topic: not ours to read
        out.append((token, when, present))
    return out


def coverage(events: list[tuple[float, bool]], start: float, end: float) -> list[Interval]:
    """State changes of IsDataPresent turned into the intervals where it was true, within the window."""
    out: list[Interval] = []
    since: float | None = None
    for when, present in sorted(events):
        if present and since is None:
            since = max(when, start)
        elif not present and since is not None:
            out.append((since, min(when, end)))
            since = None
    if since is not None:
        out.append((since, end))
    return out


async def paged(t: Transport, job: Job, op: str, token: str) -> list[etree._Element]:
    """Result pages of a search session until SearchState is Completed, within max_pages."""
    pages = []
    try:
        for _ in range(job.limits.max_pages):
            resp = await call(t, SEARCH, TSE, op, f"<tse:{op}><tse:SearchToken>{token}</tse:SearchToken>"
                              f"<tse:MaxResults>{job.limits.page_size}</tse:MaxResults>"
                              "<tse:WaitTime>PT1S</tse:WaitTime>"
                              f"</tse:{op}>")
            results = find(resp, "ResultList")
            if results is None:
                raise CollectError("malformed", f"{op}: no ResultList")
            pages.append(results)
            if (text(results, "SearchState") or "") == "Completed":
                return pages
        raise CollectError("paging", f"{op}: search not Completed after {job.limits.max_pages} pages")
    finally:
        task = asyncio.current_task()
        if task is None or not task.cancelling():
            with contextlib.suppress(CollectError):
                await call(t, SEARCH, TSE, "EndSearch", f"<tse:EndSearch><tse:SearchToken>{token}</tse:SearchToken>"
                           "</tse:EndSearch>")


async def recordings(t: Transport, job: Job) -> list[tuple[str, float | None]]:
    resp = await call(t, SEARCH, TSE, "FindRecordings", "<tse:FindRecordings><tse:Scope/>"
                      "<tse:KeepAliveTime>PT30S</tse:KeepAliveTime></tse:FindRecordings>")
    token = text(resp, "SearchToken")
    if not token:
        raise CollectError("malformed", "FindRecordings: no SearchToken")
    found = [r for page in await paged(t, job, "GetRecordingSearchResults", token) for r in parse_recordings(page)]
    return sorted(found, key=lambda r: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", r[0])])


def channel_map(recs: list[tuple[str, float | None]]) -> dict[int, tuple[str, float | None]]:
    numbers = [re.search(r"(\d+)$", tok) for tok, _ in recs]
    if all(numbers) and len({int(m[1]) for m in numbers if m}) == len(recs):
        return {int(m[1]): rec for m, rec in zip(numbers, recs, strict=True) if m}
    return {i + 1: rec for i, rec in enumerate(recs)}


async def history(t: Transport, job: Job, token: str, start: float, end: float) -> list[tuple[float, bool]]:
    resp = await call(t, SEARCH, TSE, "FindEvents",
                      f"<tse:FindEvents><tse:StartPoint>{iso(start)}</tse:StartPoint>"
                      f"<tse:EndPoint>{iso(end)}</tse:EndPoint>"
                      f"<tse:Scope><tt:IncludedRecordings>{token}</tt:IncludedRecordings></tse:Scope>"
                      '<tse:SearchFilter><tt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/'
                      f'ConcreteSet">{TOPIC}</tt:TopicExpression></tse:SearchFilter>'
                      "<tse:IncludeStartState>true</tse:IncludeStartState>"
                      "<tse:KeepAliveTime>PT30S</tse:KeepAliveTime></tse:FindEvents>")
    search_token = text(resp, "SearchToken")
    if not search_token:
        raise CollectError("malformed", "FindEvents: no SearchToken")
    events = [e for page in await paged(t, job, "GetEventSearchResults", search_token) for e in parse_events(page)]
    if not events:
        raise CollectError("malformed", f"FindEvents: no RecordingHistory state for {token}")
    return [(when, present) for tok, when, present in events if tok in ("", token)]


async def collect(t: Transport, job: Job) -> RecorderResult:
    res = RecorderResult(job.recorder, job.dialect, (job.start, job.end))
    clock = await call(t, DEVICE, TDS, "GetSystemDateAndTime", "<tds:GetSystemDateAndTime/>")
    res.clock_offset = offset = clock_offset(parse_device_time(clock), job.now)
    summary = await call(t, SEARCH, TSE, "GetRecordingSummary", "<tse:GetRecordingSummary/>")
    if find(summary, "Summary") is None:
        raise CollectError("malformed", "GetRecordingSummary: no Summary")
    by_channel = channel_map(await recordings(t, job))
    res.up = True
    for ch in job.channels:
        out = res.channels[ch] = Channel(ch)
        if ch not in by_channel:
            out.error = "malformed"
            out.problems["no_recording"] += 1
            continue
        token, earliest = by_channel[ch]
        try:
            events = await history(t, job, token, job.start + offset, job.end + offset)
            raw = coverage(events, job.start + offset, job.end + offset)
            out.covered, out.problems = normalize(((s - offset, e - offset) for s, e in raw), job.limits.join_seconds)
            out.oldest = earliest - offset if earliest is not None else None
        except CollectError as e:
            out.error = e.reason
            out.problems[e.reason] += 1
            if e.reason in ("auth", "timeout", "connect"):
                raise
    return res



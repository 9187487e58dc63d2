"""Hikvision ISAPI against real-format replies (tests/fixtures/recording/isapi, SOURCES.tsv): paging
through matchList, namespaces, the device clock, disks, 401, endless paging, malformed pages."""

from __future__ import annotations

import datetime as dt

import pytest

from sharpeyes.recording import isapi
from sharpeyes.recording.collector import Target, collect_one
from sharpeyes.recording.job import Job, Limits
from sharpeyes.recording.model import CollectError
from sharpeyes.recording.transport import Reply
from tests.recording.recording_testlib import body, fake, ok

TZ = "Asia/Shanghai"


def ts(s: str) -> float:
    return dt.datetime.fromisoformat(s).timestamp()


def test_search_pages_parse_in_any_namespace() -> None:
    status, segs = isapi.parse_search(body("isapi/search_more.xml"), TZ)
    assert status == "MORE" and segs == [(ts("2022-12-06T08:51:13+00:00"),) * 2, (ts("2022-12-06T08:54:19+00:00"),) * 2]
    status, segs = isapi.parse_search(body("isapi/search_ok.xml"), TZ)
    assert status == "OK" and len(segs) == 1


def test_device_time_carries_its_offset_and_storage_is_in_megabytes() -> None:
    assert isapi.parse_device_time(body("isapi/device_status.xml"), TZ) == ts("1970-02-22T08:21:26+08:00")
    [disk] = isapi.parse_storage(body("isapi/storage.xml"))
    assert (disk.id, disk.state, disk.raw) == ("2", "ok", "ok")
    assert disk.capacity_bytes == 1907729 * 1024 * 1024 and disk.free_bytes == 224256 * 1024 * 1024


def _job(**limits: int) -> Job:
    now = ts("2022-12-07T14:00:00+00:00")
    return Job("nvr-1", "isapi", (1,), now - 86400, now, now, TZ, Limits(**limits))


async def test_paging_advances_by_the_matches_returned_and_stops_on_ok() -> None:
    pages = [body("isapi/search_more.xml"), body("isapi/search_ok.xml")]
    t = fake(lambda m, p, q, b: ok(pages.pop(0)))
    segs, _ = await isapi.search(t, _job(), 1, 0, 1)
    assert len(segs) == 3
    bodies = [c.body.decode() for c in t.calls]
    assert "<searchResultPostion>0<" in bodies[0] and "<searchResultPostion>2<" in bodies[1]
    assert all("<trackID>101</trackID>" in b for b in bodies)  # channel 1 main stream


async def test_endless_more_is_cut_off_at_max_pages() -> None:
    t = fake(lambda m, p, q, b: ok(body("isapi/search_more.xml")))
    with pytest.raises(CollectError) as e:
        await isapi.search(t, _job(max_pages=5), 1, 0, 1)
    assert e.value.reason == "paging" and len(t.calls) == 5


async def test_more_with_no_matches_is_a_paging_error_not_an_empty_channel() -> None:
    empty = body("isapi/search_more.xml").split(b"<matchList>")[0] + b"</CMSearchResult>"
    t = fake(lambda m, p, q, b: ok(empty))
    with pytest.raises(CollectError) as e:
        await isapi.search(t, _job(), 1, 0, 1)
    assert e.value.reason == "paging" and len(t.calls) == 1


async def test_truncated_page_marks_the_channel_unknown_and_keeps_the_others() -> None:
    good = body("isapi/search_ok.xml")
    truncated = body("isapi/search_more.xml")[:300]

    def route(m: str, p: str, q: object, b: bytes) -> Reply:
        if p == isapi.STATUS:
            return ok(body("isapi/device_status.xml"))
        if p == isapi.STORAGE:
            return ok(body("isapi/storage.xml"))
        return ok(truncated if b"<trackID>201<" in b else good)

    job = Job("nvr-1", "isapi", (1, 2), 0, 1e10, ts("1970-02-22T00:21:26+00:00"), TZ, Limits())
    res = await isapi.collect(fake(route), job)
    assert res.up and res.channels[1].error == "" and res.channels[2].error == "malformed"
    assert res.clock_offset == 0.0


async def test_401_with_a_digest_challenge_is_an_auth_error_of_that_recorder() -> None:
    challenge = (body("isapi/unauthorized.www-authenticate")).decode().strip()
    t = fake(lambda m, p, q, b: Reply(401, body("isapi/unauthorized.html"), {"WWW-Authenticate": challenge}))
    target = Target("nvr-1", "isapi", "127.0.0.1:80", "platforms", {1: "cam-1"})

    res = await collect_one(target, lambda tg: t, 0, 3600, 3600, deadline=5, limits=Limits(), tz=TZ)
    assert (res.up, res.error) == (False, "auth") and "401" in res.message
    assert res.channels == {} and len(t.calls) == 1

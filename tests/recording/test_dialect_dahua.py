"""Dahua mediaFileFind/storageDevice against real-format replies (tests/fixtures/recording/dahua):
finder life cycle, short pages that are not the end, local times, harmless close errors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sharpeyes.recording import dahua
from sharpeyes.recording.job import Job, Limits
from sharpeyes.recording.model import CollectError
from sharpeyes.recording.transport import Reply
from tests.recording.recording_testlib import body, fake, ok

TZ = "Asia/Shanghai"


def local(s: str) -> float:
    return dt.datetime.fromisoformat(s).replace(tzinfo=ZoneInfo(TZ)).timestamp()


def finder(pages: list[bytes]):  # type: ignore[no-untyped-def]
    def route(m: str, p: str, q: dict[str, str], b: bytes) -> Reply:
        action = q.get("action")
        if action == "factory.create":
            return ok(body("dahua/factory_create.txt"))
        if action == "findFile":
            return ok("OK\r\n")
        if action == "findNextFile":
            return ok(pages.pop(0) if pages else body("dahua/findNextFile_end.txt"))
        if action in ("factory.close", "factory.destroy"):
            return ok(body("dahua/factory_close_error.txt"))
        raise AssertionError(q)

    return fake(route)


def test_find_next_file_items_are_local_times() -> None:
    found, segs = dahua.parse_files(dahua.kv(body("dahua/findNextFile_1.txt"), "t"), TZ)
    assert found == 2
    assert segs == [(local("2020-01-06 06:05:00"), local("2020-01-06 06:13:00")),
                    (local("2020-01-06 06:13:00"), local("2020-01-06 06:21:00"))]


async def test_short_pages_are_not_the_end_and_the_finder_is_closed() -> None:
    t = finder([body("dahua/findNextFile_1.txt"), body("dahua/findNextFile_2.txt")])
    job = Job("nvr-2", "dahua_cgi", (3,), 0, 1, 0, TZ, Limits(page_size=100))
    segs = await dahua.find(t, job, 3, local("2020-01-06 00:00:00"), local("2020-01-07 00:00:00"))
    assert len(segs) == 3
    actions = [c.params["action"] for c in t.calls]
    assert actions == ["factory.create", "findFile", "findNextFile", "findNextFile", "findNextFile",
                       "factory.close", "factory.destroy"]
    find_file = t.calls[1].params
    assert find_file["object"] == "123" and find_file["condition.Channel"] == "3"
    assert find_file["condition.StartTime"] == "2020-01-06 00:00:00"


async def test_endless_find_next_file_is_cut_off() -> None:
    t = finder([body("dahua/findNextFile_1.txt")] * 50)
    job = Job("nvr-2", "dahua_cgi", (1,), 0, 1, 0, TZ, Limits(max_pages=4))
    with pytest.raises(CollectError) as e:
        await dahua.find(t, job, 1, 0, 1)
    assert e.value.reason == "paging"
    assert [c.params["action"] for c in t.calls].count("findNextFile") == 4
    assert t.calls[-1].params["action"] == "factory.destroy"  # still cleaned up


def test_found_may_exceed_the_items_listed_but_not_be_empty() -> None:
    found, segs = dahua.parse_files(dahua.kv(body("dahua/findNextFile_2.txt"), "t"), TZ)
    assert (found, segs) == (2, [(local("2020-01-06 06:36:10"), local("2020-01-06 06:36:44"))])
    with pytest.raises(CollectError, match="found=2 but no items"):
        dahua.parse_files({"found": "2"}, TZ)


def test_error_reply_is_an_error_with_the_recorders_detail() -> None:
    with pytest.raises(CollectError, match="Invalid Request"):
        dahua.kv(body("dahua/factory_close_error.txt"), "close")


def test_storage_states_and_sizes() -> None:
    fields = dahua.kv(b"list.info[0].Detail[0].IsError=false\r\nlist.info[0].Detail[0].TotalBytes=1000.000000\r\n"
                      b"list.info[0].Detail[0].UsedBytes=400.000000\r\nlist.info[0].Name=/dev/sda\r\n"
                      b"list.info[0].State=Success\r\nlist.info[1].Detail[0].IsError=true\r\n"
                      b"list.info[1].Name=/dev/sdb\r\nlist.info[1].State=Failure\r\n", "storage")
    disks = dahua.parse_storage(fields)
    assert [(d.id, d.state, d.free_bytes) for d in disks] == [("/dev/sda", "ok", 600.0), ("/dev/sdb", "failed", None)]

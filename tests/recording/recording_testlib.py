"""Helpers of the recording tests: fixture bodies and a fake recorder answering by path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from sharpeyes.recording.transport import RecordingFake, Reply

HERE = Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "recording"


def body(rel: str) -> bytes:
    return (FIX / rel).read_bytes()


Route = Callable[[str, str, Mapping[str, str], bytes], Reply]


def fake(route: Route) -> RecordingFake:
    return RecordingFake(route)


def ok(data: bytes | str) -> Reply:
    return Reply(200, data.encode() if isinstance(data, str) else data)

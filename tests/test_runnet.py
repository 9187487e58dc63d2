"""The per-run slot (tests/runnet.py): exclusive between live runs, free again when a run dies, its
address block disjoint from the sample's and from other slots', and its leftovers (only its own)
cleared when it is taken."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.inventory import load_inventory
from tests import runnet
from tests.conftest import ROOT, SAMPLE

HOLD = ("import sys, time\nfrom tests import runnet\nnet = runnet.acquire(clean=False)\n"
        "print(net.slot, flush=True)\ntime.sleep(120)\n")


@pytest.fixture
def slot_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(runnet, "SLOT_DIR", tmp_path)
    monkeypatch.delenv("SHARPEYES_TEST_SLOT", raising=False)
    return tmp_path


@pytest.fixture
def holder(slot_dir: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another 'run': a process holding a slot of ``slot_dir``."""
    env = {**os.environ, "SHARPEYES_TEST_SLOT_DIR": str(slot_dir), "PYTHONPATH": str(ROOT)}
    env.pop("SHARPEYES_TEST_SLOT", None)
    proc = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    slot = int(proc.stdout.readline())
    yield proc, slot
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_two_live_runs_get_different_slots(holder: tuple[subprocess.Popen[str], int]) -> None:
    _, theirs = holder
    ours = runnet.acquire(clean=False)
    try:
        assert ours.slot != theirs
        assert ours.offset != runnet.STRIDE * theirs
    finally:
        ours.release()


def test_a_pinned_slot_that_is_held_is_refused(holder: tuple[subprocess.Popen[str], int],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _, theirs = holder
    monkeypatch.setenv("SHARPEYES_TEST_SLOT", str(theirs))
    with pytest.raises(runnet.SlotsExhausted, match="held by a running test run"):
        runnet.acquire(clean=False)


def test_a_killed_runs_slot_is_free_again(holder: tuple[subprocess.Popen[str], int],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    proc, theirs = holder
    proc.send_signal(signal.SIGKILL)  # a crash: no cleanup code runs
    proc.wait(10)
    monkeypatch.setenv("SHARPEYES_TEST_SLOT", str(theirs))
    net = runnet.acquire(clean=False)
    try:
        assert net.slot == theirs
    finally:
        net.release()


def test_a_slot_whose_addresses_are_still_served_is_skipped(slot_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A crashed run's orphaned simulator still listens on its block: that slot is not handed out."""
    import socket

    leftover = runnet.RunNet(29)
    with socket.socket() as orphan:
        orphan.bind((leftover.ip("127.20.0.77"), 0))
        orphan.listen()
        assert leftover.busy() == [leftover.ip("127.20.0.77")]
        assert runnet.RunNet(28).busy() == []
        monkeypatch.setenv("SHARPEYES_TEST_SLOT", "29")
        with pytest.raises(runnet.SlotsExhausted, match="still listen on its addresses"):
            runnet.acquire(clean=False)
    assert leftover.busy() == []


def test_every_slot_block_is_disjoint_and_inside_127() -> None:
    seen: set[str] = set()
    sample_octets = {16, 18, 20}
    for slot in runnet.SLOTS:
        net = runnet.RunNet(slot)
        octets = {int(net.ip(f"127.{b}.0.1").split(".")[1]) for b in sample_octets}
        octets |= {int(net.host(0).split(".")[1]), int(net.host(0, sub=23).split(".")[1])}
        assert all(0 < o <= 255 for o in octets) and not octets & sample_octets
        blocks = {str(o) for o in octets}
        assert not blocks & seen, f"slot {slot} overlaps another slot"
        seen |= blocks
    with pytest.raises(ValueError, match="not a sample-district address"):
        runnet.RunNet(1).ip("10.0.0.1")


def test_the_runs_sample_copy_moves_every_address_and_nothing_else(tmp_path: Path) -> None:
    net = runnet.RunNet(3)
    copy = load_inventory(net.copy_sample(tmp_path / "fengquan"))
    sample = load_inventory(SAMPLE)
    assert set(copy.devices) == set(sample.devices)
    for dev_id, dev in sample.devices.items():
        assert copy.devices[dev_id].ip == net.ip(dev.ip)
        assert copy.devices[dev_id].mac == dev.mac and copy.devices[dev_id].kind == dev.kind
    only = load_inventory(net.copy_sample(tmp_path / "one", townships=["dakuai"]))
    assert {d.township for d in only.devices.values()} <= {"dakuai", None, ""}


def test_a_slots_cleanup_deletes_only_its_own_leftover_tables() -> None:
    """acquire() runs this cleanup; slots 98/99 are never handed out, so no live run is touched (the
    other tests here take slots of a private lock directory with clean=False for the same reason)."""
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("needs root and nftables")
    mine = runnet.RunNet(99)
    other = runnet.RunNet(98)
    tables = [mine.table("leftover"), other.table("leftover"), "sharpeyes_t999_leftover"]
    for t in tables:
        subprocess.run(["nft", "add", "table", "inet", t], check=True)
    try:
        assert mine.clean_leftovers() == [mine.table("leftover")]
        names = {name for _, name in runnet.nft_tables()}
        assert mine.table("leftover") not in names
        assert other.table("leftover") in names and "sharpeyes_t999_leftover" in names
    finally:
        for t in tables:
            subprocess.run(["nft", "delete", "table", "inet", t], capture_output=True, check=False)


def test_port_bases_of_different_slots_never_share_a_port() -> None:
    offsets = (9090, 9093, 9180, 9430, 9440)  # the demo's services
    low = runnet._ephemeral_low()
    taken: dict[int, int] = {}
    for slot in runnet.SLOTS:
        bases = {runnet.free_port_base(offsets, slot=slot) for _ in range(10)}  # random draws within the band
        for port in (base + o for base in bases for o in offsets):
            assert 1024 < port < low, (slot, port)
            assert taken.setdefault(port, slot) == slot, f"slots {taken[port]} and {slot} share port {port}"

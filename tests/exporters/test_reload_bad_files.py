"""A non-UTF-8 file (GBK-saved, as Chinese Windows editors write it) in the inventory or the
config: file:line error, the old state keeps serving, the reload metric says 0, the watcher keeps
going (a later fix is picked up), /-/reload answers with the error, --config.check names the file."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.exporters.app import Exporter
from sharpeyes.tickets.config import ConfigError
from sharpeyes.tickets.config import load_config as load_tickets_config

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "tests" / "inventory" / "valid_min"
CONFIG = "modules:\n  icmp: {prober: icmp, timeout: 2s}  # 探测\n"


async def wait_for(cond: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.02)


def gbk(path: Path) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))


async def test_gbk_inventory_file_keeps_the_old_inventory_and_the_watcher(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    shutil.copytree(VALID, inv)
    config = tmp_path / "exporter.yml"
    config.write_text(CONFIG, encoding="utf-8")
    exporter = Exporter(config, inv, poll_interval=0.02)
    async with TestClient(TestServer(exporter.make_app())) as c:
        good = exporter.snapshot
        assert good is not None
        east = inv / "townships" / "east.yaml"
        utf8 = east.read_text(encoding="utf-8")
        gbk(east)
        await wait_for(lambda: exporter.metrics.inventory_ok._value.get() == 0)
        assert exporter.snapshot is good  # the old inventory keeps serving
        r = await c.post("/-/reload")
        assert r.status == 500
        body = await r.text()
        assert "townships/east.yaml:3: not UTF-8 text" in body
        metrics = await (await c.get("/metrics")).text()
        assert "sharpeyes_exporter_inventory_last_reload_successful 0.0" in metrics
        # the watcher is still alive: fixing the file is picked up without a request
        east.write_text(utf8.replace("East Town", "East Town Fixed"), encoding="utf-8")
        await wait_for(lambda: exporter.metrics.inventory_ok._value.get() == 1)
        assert exporter.snapshot is not None
        assert exporter.snapshot.inventory.inventory.townships["east"].name_en == "East Town Fixed"


async def test_gbk_exporter_config_reload_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text(CONFIG, encoding="utf-8")
    exporter = Exporter(config, VALID, poll_interval=0)
    async with TestClient(TestServer(exporter.make_app())) as c:
        gbk(config)
        r = await c.post("/-/reload")
        assert r.status == 500
        assert f"{config}:2: not UTF-8 text" in await r.text()
        assert exporter.metrics.config_ok._value.get() == 0
        assert (await c.get("/-/healthy")).status == 200


def test_config_check_names_the_non_utf8_file(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_bytes(CONFIG.encode("gbk"))
    run = subprocess.run(
        [sys.executable, "-m", "sharpeyes.exporters.cli", "--config.file", str(config), "--config.check"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert f"{config}:2: not UTF-8 text" in run.stderr and "Traceback" not in run.stderr


def test_gbk_tickets_config_is_a_file_line_error(tmp_path: Path) -> None:
    path = tmp_path / "tickets.yml"
    path.write_bytes("# 工单服务\ndb_url: sqlite:///x\n".encode("gbk"))
    try:
        load_tickets_config(path)
    except ConfigError as e:
        assert str(e.problems[0]).startswith(f"{path}:1: not UTF-8 text")
    else:
        raise AssertionError("a GBK tickets config loaded")

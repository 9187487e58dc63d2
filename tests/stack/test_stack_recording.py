"""The demo stack runs the recording collector against the simulated recorders: its config is one the
collector accepts (strict), on the port the simulator's recorders answer; Prometheus scrapes it; the
scenario fails the disks of a recorder whose cameras no other fault touches (a gap of its own)."""

from __future__ import annotations

from pathlib import Path

from sharpeyes.contract import JOB_RECORDING, SAMPLE_DISTRICT
from sharpeyes.exporters.promconfig import build, scaled_jobs
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.recording import recorded_cameras
from sharpeyes.recording.config import load_config
from sharpeyes.stack.demo import gap_query, pick_scenario
from sharpeyes.stack.stack import Ports, Stack, StackOptions


def test_the_stacks_recording_config_is_valid_and_follows_the_simulator(tmp_path: Path) -> None:
    stack = Stack(StackOptions(inventory=SAMPLE_DISTRICT, workdir=tmp_path, interval_scale=0.2,
                               device_ports=(1161, 8080, 8554), ports=Ports().offset(7)))
    stack.recording_config.parent.mkdir(parents=True, exist_ok=True)
    stack.recording_config.write_text(stack._recording_config(), encoding="utf-8")
    cfg = load_config(str(stack.recording_config))
    assert (cfg.port, cfg.interval, cfg.deadline) == (8080, 15.0, 15.0)
    assert cfg.secrets_file == str(stack.secrets_file) and cfg.db.endswith("recording.sqlite3")
    assert stack.url("recording") == "http://127.0.0.1:9457"


def test_prometheus_scrapes_the_collector_on_the_demo_clock() -> None:
    jobs = {j["job_name"]: j for j in build(["127.0.0.1:9430"], recording=["127.0.0.1:9450"],
                                             jobs=scaled_jobs(0.2))["scrape_configs"]}
    assert jobs[JOB_RECORDING]["scrape_interval"] == "12s"
    prod = {j["job_name"]: j for j in build(["127.0.0.1:9430"], recording=["127.0.0.1:9450"])["scrape_configs"]}
    assert (prod[JOB_RECORDING]["scrape_interval"], prod[JOB_RECORDING]["scrape_timeout"]) == ("1m", "30s")


def test_the_scenario_fails_a_recorder_whose_cameras_nothing_else_touches() -> None:
    inv = load_inventory(SAMPLE_DISTRICT)
    steps = pick_scenario(inv)
    [disk] = [s for s in steps if s.fault == "disk_failed"]
    cams = {c.id for c in recorded_cameras(inv, disk.target)}
    others = {s.target for s in steps if s.fault in ("power_loss", "encoder_stalled")}
    cut = inv.topology.downstream(next(s.target for s in steps if s.fault == "fiber_cut"))
    assert cams and not cams & (others | cut)
    assert disk.root_key == f"device:{disk.target}"
    assert f'recorder="{disk.target}"' in gap_query(disk.target)

"""promconfig: the generated prometheus.yml passes `promtool check config`, and sharding keeps every
target in exactly one shard (checked by replaying Prometheus' hashmod: md5, last 8 bytes, big-endian)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sharpeyes.exporters.cli import main
from sharpeyes.exporters.promconfig import MODULE_JOBS, PromConfigError, build, module_interval, render, scaled_jobs

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
JOBS = {"sharpeyes_icmp": ("15s", "10s"), "sharpeyes_rtsp": ("30s", "10s"),
        "sharpeyes_snmp_camera": ("30s", "20s"), "sharpeyes_snmp_switch": ("30s", "25s"),
        "sharpeyes_onvif": ("5m", "1m"), "sharpeyes_snapshot": ("10m", "1m")}


def promtool_check(path: Path) -> str:
    assert PROMTOOL is not None
    proc = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def jobs(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {j["job_name"]: j for j in cfg["scrape_configs"]}


def test_single_exporter_jobs() -> None:
    cfg = build(["127.0.0.1:9430"])
    js = jobs(cfg)
    assert list(js) == [*JOBS, "sharpeyes_inventory", "sharpeyes_exporter"]
    for name, (interval, timeout) in JOBS.items():
        j = js[name]
        module = name.removeprefix("sharpeyes_")
        assert (j["scrape_interval"], j["scrape_timeout"], j["metrics_path"]) == (interval, timeout, "/probe")
        assert j["params"] == {"module": [module]}
        assert j["http_sd_configs"][0]["url"] == f"http://127.0.0.1:9430/sd?module={module}"
        assert j["relabel_configs"] == [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "module", "replacement": module},
            {"target_label": "__address__", "replacement": "127.0.0.1:9430"},
        ]
    inv = js["sharpeyes_inventory"]
    assert (inv["metrics_path"], inv["honor_labels"], inv["static_configs"]) == \
        ("/inventory/metrics", True, [{"targets": ["127.0.0.1:9430"]}])
    assert js["sharpeyes_exporter"]["static_configs"] == [{"targets": ["127.0.0.1:9430"]}]


def hashmod(value: str, modulus: int) -> int:
    """Prometheus relabel hashmod: sum64(md5(value)) % modulus, sum64 = the md5's last 8 bytes big-endian."""
    return int.from_bytes(hashlib.md5(value.encode()).digest()[8:], "big") % modulus


def test_sharding_splits_every_module_over_the_exporters(sample_inventory) -> None:  # type: ignore[no-untyped-def]
    exporters = ["10.0.0.1:9430", "10.0.0.2:9430", "10.0.0.3:9430"]
    js = jobs(build(exporters))
    for module in JOBS:
        shards = [js[f"{module}_shard{i}"] for i in range(3)]
        for i, job in enumerate(shards):
            rules = job["relabel_configs"]
            assert rules[0] == {"source_labels": ["__address__"], "modulus": 3, "target_label": "__tmp_shard",
                                "action": "hashmod"}
            assert rules[1] == {"source_labels": ["__tmp_shard"], "regex": str(i), "action": "keep"}
            assert {"target_label": "job", "replacement": module} in rules
            assert rules[-1] == {"target_label": "__address__", "replacement": exporters[i]}
            assert job["http_sd_configs"][0]["url"].startswith(f"http://{exporters[i]}/sd")
    counts = [0, 0, 0]
    for dev in sample_inventory.devices:
        counts[hashmod(dev, 3)] += 1
    assert all(n > len(sample_inventory.devices) / 4 for n in counts)  # roughly even, none empty
    assert js["sharpeyes_exporter"]["static_configs"] == [{"targets": exporters}]
    assert js["sharpeyes_inventory"]["static_configs"] == [{"targets": exporters[:1]}]


def test_file_sd_and_inventory_url() -> None:
    js = jobs(build(["a:1"], sd_mode="file", sd_dir="/etc/prometheus/sharpeyes/"))
    assert js["sharpeyes_onvif"]["file_sd_configs"][0]["files"] == ["/etc/prometheus/sharpeyes/onvif.json"]
    js = jobs(build(["a:1", "b:2"], inventory_url="http://inv:9430/"))
    assert js["sharpeyes_rtsp_shard1"]["http_sd_configs"][0]["url"] == "http://inv:9430/sd?module=rtsp"


def test_alerting_and_rules() -> None:
    cfg = build(["a:1"], rules=["/etc/prometheus/rules/*.yml"], alertmanager="http://127.0.0.1:9093/am")
    assert cfg["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    assert cfg["alerting"] == {"alertmanagers": [{"scheme": "http", "path_prefix": "/am",
                                                  "static_configs": [{"targets": ["127.0.0.1:9093"]}]}]}


@pytest.mark.parametrize(("args", "message"), [
    ({"exporters": []}, "at least one --exporter HOST:PORT is required"),
    ({"exporters": ["nohost"]}, "exporter address 'nohost' is not HOST:PORT"),
    ({"exporters": ["a:1", "a:1"]}, "an exporter is listed twice"),
    ({"exporters": ["a:1"], "alertmanager": "ftp://x"}, "alertmanager URL 'ftp://x' is not http(s)://HOST:PORT[/path]"),
])
def test_errors(args: dict[str, Any], message: str) -> None:
    exporters = args.pop("exporters")
    with pytest.raises(PromConfigError) as info:
        build(exporters, **args)
    assert str(info.value) == message


def test_timeouts_below_intervals() -> None:
    for job in MODULE_JOBS:
        assert 0 < job.timeout < job.interval


@needs_promtool
@pytest.mark.parametrize("exporters", [["127.0.0.1:9430"],
                                       ["127.0.0.1:9430", "127.0.0.1:9431", "127.0.0.1:9432"]])
@pytest.mark.parametrize("mode", ["http", "file"])
def test_promtool_accepts_the_output(tmp_path: Path, exporters: list[str], mode: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.yml").write_text("groups: []\n")
    argv = ["promconfig", "--sd-mode", mode, "--sd-dir", str(tmp_path / "sd"), "--rules", f"{rules}/*.yml",
            "--alertmanager", "http://127.0.0.1:9093", "--out", str(tmp_path / "prometheus.yml")]
    for e in exporters:
        argv += ["--exporter", e]
    assert main(argv) == 0
    out = promtool_check(tmp_path / "prometheus.yml")
    assert "SUCCESS" in out
    text = (tmp_path / "prometheus.yml").read_text()
    assert text.startswith("# Generated by `sharpeyes-exporter promconfig`")
    assert len(yaml.safe_load(text)["scrape_configs"]) == len(MODULE_JOBS) * len(exporters) + 2


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sharpeyes.exporters.cli", "promconfig", "--exporter", "bad",
           "--out", str(tmp_path / "p.yml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "sharpeyes-exporter: error: exporter address 'bad' is not HOST:PORT\n"
    assert not (tmp_path / "p.yml").exists()


def test_render_is_stable() -> None:
    cfg = build(["127.0.0.1:9430"])
    assert render(cfg) == render(build(["127.0.0.1:9430"]))
    assert yaml.safe_load(render(cfg)) == cfg


@needs_promtool
def test_recording_collector_job(tmp_path: Path) -> None:
    argv = ["promconfig", "--exporter", "127.0.0.1:9430", "--recording", "127.0.0.1:9450",
            "--out", str(tmp_path / "prometheus.yml")]
    assert main(argv) == 0
    assert "SUCCESS" in promtool_check(tmp_path / "prometheus.yml")
    jobs = {j["job_name"]: j for j in yaml.safe_load((tmp_path / "prometheus.yml").read_text())["scrape_configs"]}
    assert jobs["sharpeyes_recording"]["static_configs"] == [{"targets": ["127.0.0.1:9450"]}]


def test_ha_alertmanager_pair_and_remote_write_pass_promtool(tmp_path: Path) -> None:
    """Every rule evaluator sends to both Alertmanager peers (one alertmanagers entry, two targets:
    Prometheus sends each alert to every target) and remote-writes to the global store."""
    cfg = build(["a:1"], alertmanager=["http://127.0.0.1:9093", "127.0.0.1:9193"],
                remote_write=["http://127.0.0.1:8428/api/v1/write"])
    assert cfg["alerting"] == {"alertmanagers": [{"scheme": "http", "static_configs": [
        {"targets": ["127.0.0.1:9093", "127.0.0.1:9193"]}]}]}
    assert cfg["remote_write"] == [{"url": "http://127.0.0.1:8428/api/v1/write"}]
    out = tmp_path / "prometheus.yml"
    out.write_text(render(cfg))
    proc = subprocess.run(["promtool", "check", "config", "--syntax-only", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with pytest.raises(PromConfigError, match="listed twice"):
        build(["a:1"], alertmanager=["127.0.0.1:9093", "http://127.0.0.1:9093"])
    with pytest.raises(PromConfigError, match="remote write URL"):
        build(["a:1"], remote_write=["127.0.0.1:8428"])


def test_one_module_interval_after_scaling(tmp_path: Path) -> None:
    # the demo takes stills every 2 minutes while the other jobs run at half the production interval
    argv = ["promconfig", "--exporter", "127.0.0.1:9430", "--interval-scale", "0.5",
            "--module-interval", "snapshot=2m", "--out", str(tmp_path / "p.yml")]
    assert main(argv) == 0
    got = jobs(yaml.safe_load((tmp_path / "p.yml").read_text()))
    assert (got["sharpeyes_snapshot"]["scrape_interval"], got["sharpeyes_snapshot"]["scrape_timeout"]) == ("2m", "30s")
    assert (got["sharpeyes_onvif"]["scrape_interval"], got["sharpeyes_icmp"]["scrape_interval"]) == ("2m30s", "8s")
    fast = {j.module: j for j in scaled_jobs(0.2, {"snapshot": 6})}
    assert (fast["snapshot"].interval, fast["snapshot"].timeout) == (6, 5)  # the timeout stays below the interval
    if PROMTOOL is not None:
        assert "SUCCESS" in promtool_check(tmp_path / "p.yml")


@pytest.mark.parametrize(("text", "message"), [
    ("snapshot", "module interval 'snapshot' is not MODULE=DURATION (e.g. snapshot=1m)"),
    ("snapshot=10", "module interval 'snapshot=10': '10' is not a duration (e.g. 500ms, 10s, 1m30s, 2h, 30d)"),
    ("nosuch=1m", "unknown module 'nosuch' in a module interval (modules: icmp, rtsp, snmp_camera, snmp_switch, "
                  "onvif, snapshot)"),
    ("snapshot=1s", "module snapshot: interval 1s is below 2s"),
])
def test_bad_module_intervals(text: str, message: str) -> None:
    with pytest.raises(PromConfigError) as info:
        scaled_jobs(1.0, dict([module_interval(text)]))
    assert str(info.value) == message

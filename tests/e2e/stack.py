"""The end-to-end harness: the whole stack on one township of the sample district.

One stack per test package (tests/e2e): simulator + exporter + tickets + Alertmanager + Prometheus,
each as its own process started through its own CLI by ``sharpeyes.stack``, on a compressed clock
(scrape intervals × 0.2, alert ``for:`` × 0.1). The township is dakuai (Huawei switches) of the
sample district moved into this run's address block (tests/runnet.py); every component and the
devices listen on ports the kernel picked, so the stack never collides with another run, another
simulator or a real agent.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.stack.stack import Ports, Process, Stack, StackOptions
from tests.runnet import RunNet, free_port, with_free_ports

ROOT = Path(__file__).resolve().parents[2]
TOWNSHIP = "dakuai"


def _require_root_and_tools() -> None:
    missing = [t for t in ("nft", "prometheus", "prometheus-alertmanager") if shutil.which(t) is None]
    if os.geteuid() != 0 or missing:
        pytest.fail(f"the end-to-end stack needs root and {', '.join(missing) or 'nothing missing'} "
                    "(scripts/setup.sh installs them)")


@pytest.fixture(scope="package")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A single-node VictoriaMetrics the stack's Prometheus remote-writes everything to (raw samples
    and recording-rule results): the global store of a sharded deployment. Queries see samples at
    once (-search.latencyOffset=0s; production keeps VictoriaMetrics' 30 s default)."""
    binary = shutil.which("victoria-metrics")
    if binary is None:
        pytest.fail("victoria-metrics not found (scripts/setup.sh installs Debian's victoria-metrics)")
    work = tmp_path_factory.mktemp("vm")

    def start() -> tuple[Process, str]:  # a fresh kernel port on every attempt
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = Process("victoria-metrics", [binary, f"-storageDataPath={work / 'data'}",
                                            f"-httpListenAddr=127.0.0.1:{port}", "-search.latencyOffset=0s",
                                            "-search.disableCache"], f"{url}/health", work / "vm.log")
        proc.start(work)
        try:
            proc.wait_ready(60)
        except BaseException:
            proc.stop()
            raise
        return proc, url

    proc, url = with_free_ports(start)
    try:
        yield url
    finally:
        proc.stop()


@pytest.fixture(scope="package")
def district_stack(tmp_path_factory: pytest.TempPathFactory, run_sample_dir: Path,
                   run_net: RunNet, victoria_metrics: str) -> Iterator[Stack]:
    _require_root_and_tools()
    workdir = tmp_path_factory.mktemp("stack")

    def start() -> Stack:  # fresh kernel ports on every attempt
        opts = StackOptions(
            inventory=run_sample_dir,
            workdir=workdir,
            ports=Ports.picked_by_kernel(),
            townships=(TOWNSHIP,),
            interval_scale=0.2,
            for_scale=0.1,
            hold_down="10s",
            nft_table=run_net.table("e2e"),
            device_ports=(free_port(socket.SOCK_DGRAM), free_port(), free_port()),
            remote_write=(f"{victoria_metrics}/api/v1/write",),
        )
        return Stack(opts).__enter__()

    stack = with_free_ports(start)
    try:
        active = list(_inventory(stack).active_devices())
        cameras = sum(1 for d in active if d.kind == "camera")

        def count(promql: str) -> int:
            r = stack.query(f"count({promql})")
            return int(float(r[0]["value"][1])) if r else 0

        def all_probed() -> bool:  # every module has probed every device once (ONVIF: once a minute here)
            return (count('probe_success{job="sharpeyes_icmp"} == 1') == len(active)
                    and count('probe_success{job="sharpeyes_onvif"} == 1') == cameras
                    and count('probe_success{job="sharpeyes_snmp_camera"} == 1') == cameras
                    and count("sharpeyes:device_up") > 0)

        stack.wait_for("every device of the township probed up", all_probed, timeout=240, every=2)
        yield stack
    finally:
        stack.stop()


def _inventory(stack: Stack):  # type: ignore[no-untyped-def]
    from sharpeyes.inventory import load_inventory

    return load_inventory(stack.inventory_dir)


@pytest.fixture(scope="package")
def district_prometheus(district_stack: Stack) -> str:
    """The URL of a real Prometheus holding live simulator data scraped through sharpeyes-exporter."""
    return district_stack.url("prometheus")


@pytest.fixture(scope="package")
def district_victoriametrics(district_stack: Stack, victoria_metrics: str) -> str:
    """VictoriaMetrics once it holds what Prometheus holds (every device's recorded state)."""
    from sharpeyes.stack.stack import http_json

    def count(base: str) -> int:
        r = http_json(f"{base}/api/v1/query?query=count(sharpeyes:device_up)")["data"]["result"]
        return int(float(r[0]["value"][1])) if r else 0

    want = count(district_stack.url("prometheus"))
    district_stack.wait_for("VictoriaMetrics to hold every recorded device state",
                            lambda: count(victoria_metrics) >= want, timeout=60)
    return victoria_metrics

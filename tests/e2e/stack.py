"""The end-to-end harness: the whole stack on one township of the sample district.

One stack per test package (tests/e2e): simulator + exporter + tickets + Alertmanager + Prometheus,
each as its own process started through its own CLI by ``simulator.stack``, on a compressed clock
(scrape intervals × 0.2, alert ``for:`` × 0.1). The township is dakuai (Huawei switches); the
devices answer on ports 20161/20080/20554, so the stack never collides with another simulator (the
simulator tests use baodong/genghuang, the discovery/exporter tests luwangfen) or a real agent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.stack import Ports, Stack, StackOptions

ROOT = Path(__file__).resolve().parents[2]
TOWNSHIP = "dakuai"


def _require_root_and_tools() -> None:
    missing = [t for t in ("nft", "prometheus", "prometheus-alertmanager") if shutil.which(t) is None]
    if os.geteuid() != 0 or missing:
        pytest.fail(f"the end-to-end stack needs root and {', '.join(missing) or 'nothing missing'} "
                    "(scripts/setup.sh installs them)")


@pytest.fixture(scope="package")
def district_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _require_root_and_tools()
    opts = StackOptions(
        inventory=ROOT / "inventory" / "sample" / "fengquan",
        workdir=tmp_path_factory.mktemp("stack"),
        ports=Ports().offset(20000),
        townships=(TOWNSHIP,),
        interval_scale=0.2,
        for_scale=0.1,
        hold_down="10s",
        nft_table=f"sharpeyes_e2e{os.getpid()}",
        device_ports=(20161, 20080, 20554),
    )
    with Stack(opts) as stack:
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


def _inventory(stack: Stack):  # type: ignore[no-untyped-def]
    from inventory import load_inventory

    return load_inventory(stack.inventory_dir)


@pytest.fixture(scope="package")
def district_prometheus(district_stack: Stack) -> str:
    """The URL of a real Prometheus holding live simulator data scraped through sharpeyes-exporter."""
    return district_stack.url("prometheus")

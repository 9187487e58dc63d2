"""Fixtures for the simulator's camera-side servers: camera states on private loopback addresses,
a running CameraServers and the ONVIF XSD schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from lxml import etree

from sharpeyes.simulator.cameras import CameraServers
from sharpeyes.simulator.state import DeviceState
from tests.runnet import RunNet
from tests.simulator.sim_helpers import IDENTITY, ONVIF_PORT, RTSP_PORT, SECRETS, TDS, TRT, next_ip


@pytest.fixture
def make_state() -> Callable[..., DeviceState]:
    def make(vendor: str = "hikvision", **kwargs: object) -> DeviceState:
        ip = next_ip()
        values: dict[str, object] = {"device_id": f"cam-{vendor}-{ip.replace('.', '-')}", "ip": ip,
                                     "vendor": vendor, **IDENTITY.get(vendor, IDENTITY["uniview"])}
        values.update(kwargs)
        return DeviceState(**values)  # type: ignore[arg-type]
    return make


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """``await serve(states)`` starts CameraServers on the test ports; all are closed at teardown."""
    running: list[CameraServers] = []

    async def start(states: list[DeviceState], **kwargs: object) -> CameraServers:
        servers = CameraServers(states, SECRETS, onvif_port=ONVIF_PORT, rtsp_port=RTSP_PORT, **kwargs)  # type: ignore[arg-type]
        await servers.start()
        running.append(servers)
        return servers

    yield start
    for servers in running:
        await servers.close()


# ---------------------------------------------------------------- ONVIF schemas (shipped with the client)


@pytest.fixture(scope="session")
def onvif_schemas() -> dict[str, etree.XMLSchema]:
    """XSD of the device and media services, taken from the WSDLs bundled with onvif-zeep-async."""
    import onvif

    wsdl_dir = Path(onvif.__file__).parent / "wsdl"
    schemas = {}
    for ns, name in ((TDS, "devicemgmt.wsdl"), (TRT, "media.wsdl")):
        path = wsdl_dir / name
        schema = etree.parse(str(path)).find(".//{http://www.w3.org/2001/XMLSchema}schema")
        assert schema is not None
        schemas[ns] = etree.XMLSchema(etree.fromstring(etree.tostring(schema), base_url=str(path)))
    return schemas


# ---------------------------------------------------------------- the whole simulator (SNMP, faults, API)
# fixtures for test_sim_*.py


@pytest.fixture(scope="session")
def sim_secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from sharpeyes.simulator.secrets import demo_document

    return demo_document()


@pytest.fixture(scope="session")
def sim_inventory(run_sample_dir: Path):  # type: ignore[no-untyped-def]
    """The sample district on this run's addresses: what ``running_sim`` serves."""
    from sharpeyes.inventory import load_inventory

    return load_inventory(run_sample_dir)


@pytest.fixture(scope="session")
def running_sim(sim_inventory: object, sim_secrets: dict[str, object], run_net: RunNet):  # type: ignore[no-untyped-def]
    """The simulator serving two townships (Huawei and H3C switches), with nftables, in a thread."""
    import os
    import shutil

    from sharpeyes.simulator.runner import Options, Simulator
    from sharpeyes.simulator.secrets import parse
    from tests.simulator.simnet import (
        CONTROL_HOST,
        CONTROL_PORT,
        ONVIF_PORT,
        RTSP_PORT,
        SNMP_PORT,
        TOWNSHIPS,
        SimThread,
        api,
        wait_for,
    )

    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("the simulator's network tests need root and nftables")
    opts = Options(
        snmp_port=SNMP_PORT,
        onvif_port=ONVIF_PORT,
        rtsp_port=RTSP_PORT,
        control=(CONTROL_HOST, CONTROL_PORT),
        nft_table=run_net.table("sim"),
        townships=TOWNSHIPS,
    )
    thread = SimThread(lambda: Simulator(sim_inventory, parse(sim_secrets), opts))  # type: ignore[arg-type]
    thread.start()
    wait_for(lambda: api("GET", "/api/health")[1].get("ready"), what="control API ready")
    yield thread
    thread.stop()

"""Fixtures for the simulator's camera-side servers: camera states on private loopback addresses,
a running CameraServers and the ONVIF XSD schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from lxml import etree
from sim_helpers import IDENTITY, ONVIF_PORT, RTSP_PORT, SECRETS, TDS, TRT, next_ip

from simulator.cameras import CameraServers
from simulator.state import DeviceState


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

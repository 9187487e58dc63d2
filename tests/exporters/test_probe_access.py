# ruff: noqa: F811, E501  (fixtures from test_app are redefined as parameters; a table of messages)
"""Who /probe sends credentials to: modules whose prober sends secrets probe inventory devices only,
unless the module lists the address (adhoc_targets), and &auth= picks only the module's listed
profiles for such addresses; addresses are compared in canonical form (IPv4-mapped IPv6 too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sharpeyes.exporters.app import Exporter
from sharpeyes.exporters.config import ConfigError, parse_config
from sharpeyes.exporters.inventory_state import InventoryState
from sharpeyes.exporters.probers import ProberEntry
from tests.exporters.test_app import (  # noqa: F401  (fixtures)
    Recorder,
    cached_inventory,
    config_file,
    first,
    probe,
    rec,
    sample_state,
    table,
)

Client = TestClient[Any, Any]


async def start(config_file: Path, table: dict[str, ProberEntry], townships: list[str] | None = None) -> Client:
    exporter = Exporter(config_file, None, probers=table, poll_interval=0, townships=townships)
    c: Client = TestClient(TestServer(exporter.make_app()))
    await c.start_server()
    return c


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("module=snmp_switch&target=198.51.100.7", "Module 'snmp_switch' sends credentials and probes inventory devices only"),
        ("module=snmp_switch&target=198.51.100.7&auth=cams-v3", "Module 'snmp_switch' sends credentials"),
        ("module=onvif&target=127.0.0.9", "Module 'onvif' sends credentials"),
        ("module=snmp_camera&target=127.0.1.9", "127.0.1.9 is not one (list its network in the module's adhoc_targets"),
        ("module=snmp_camera&target=127.0.0.9&auth=cams-v3", "auth profile 'cams-v3' may not be used for addresses outside"),
        ("module=snmp_camera&target=::ffff:127.0.1.9", "127.0.1.9 is not one"),
    ],
)  # fmt: skip
async def test_credentials_go_to_inventory_devices_and_listed_networks_only(
    config_file: Path, table: dict[str, ProberEntry], cached_inventory: None, rec: Recorder, query: str, message: str
) -> None:
    c = await start(config_file, table)
    try:
        status, body = await probe(c, query)
        assert status == 400 and message in body
        assert rec.calls == []  # nothing was sent anywhere
    finally:
        await c.close()


async def test_allowed_adhoc_and_inventory_probes_still_work(
    config_file: Path, table: dict[str, ProberEntry], cached_inventory: None, rec: Recorder,
    sample_state: InventoryState,
) -> None:  # fmt: skip
    cam = first(sample_state, lambda d: d.kind == "camera" and d.auth == "cams-v3")
    c = await start(config_file, table)
    try:
        assert (await probe(c, "module=snmp_camera&target=127.0.0.9&auth=cams-legacy"))[0] == 200
        assert (await probe(c, "module=snmp_camera&target=::ffff:127.0.0.10"))[0] == 200
        assert (await probe(c, f"module=snmp_camera&target={cam.id}&auth=cams-legacy"))[0] == 200
        assert (await probe(c, "module=ok&target=198.51.100.7"))[0] == 200  # no credentials: any address
        assert [t.ip for t, _, _ in rec.calls] == ["127.0.0.9", "127.0.0.10", cam.ip, "198.51.100.7"]
    finally:
        await c.close()


async def test_shard_check_sees_through_ipv4_mapped_ipv6(
    config_file: Path, table: dict[str, ProberEntry], cached_inventory: None, rec: Recorder,
    sample_state: InventoryState,
) -> None:  # fmt: skip
    foreign = first(sample_state, lambda d: d.kind == "camera" and d.township == "baoxi")
    c = await start(config_file, table, ["baodong"])
    try:
        mapped_hex = "::ffff:{:x}:{:x}".format(
            *divmod(int.from_bytes(bytes(map(int, foreign.ip.split("."))), "big"), 1 << 16)
        )
        for spelling in (f"::ffff:{foreign.ip}", mapped_hex, f"0:0:0:0:0:ffff:{foreign.ip}"):
            status, body = await probe(c, f"module=ok&target={spelling}")
            assert status == 400 and "outside this exporter's townships (baodong)" in body, spelling
        assert rec.calls == []
    finally:
        await c.close()


def test_canonical_ip() -> None:
    from sharpeyes.exporters.addresses import canonical_ip

    assert canonical_ip("::ffff:127.16.0.86") == "127.16.0.86"
    assert canonical_ip("::FFFF:7f10:56") == "127.16.0.86"
    assert canonical_ip(" 127.16.0.86") == "127.16.0.86"
    assert canonical_ip("2001:DB8::1") == "2001:db8::1"
    for bad in ("127.016.0.86", "fe80::1%eth0", "cam-1"):
        with pytest.raises(ValueError):
            canonical_ip(bad)


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("adhoc_targets: [10.0.0.1/8]", "field 'adhoc_targets': '10.0.0.1/8' is not a network"),
        ("adhoc_auths: [nobody]", "field 'adhoc_auths': no auth profile 'nobody' in auths"),
    ],
)
def test_adhoc_settings_are_checked_at_load(snippet: str, message: str) -> None:
    text = f"insecure_literal_secrets: true\nmodules:\n  m:\n    prober: snmp_camera\n    {snippet}\n" \
           "auths:\n  a:\n    snmp: {version: 2, community: c}\n"  # fmt: skip
    with pytest.raises(ConfigError) as info:
        parse_config(text, "exporter.yml")
    [problem] = info.value.problems
    assert str(problem).startswith(f"exporter.yml:5: module m: {message}")

"""The security audit against the running simulator, configured (its secrets file) so that the
`platforms` profile answers SNMP v2c community `public` and `cams-legacy` cameras use ONVIF
admin/12345 (Hikvision's factory default; not Dahua's nor Uniview's)."""

from __future__ import annotations

import json
from collections import Counter

from sharpeyes.inventory import load_inventory
from tests.discovery.disc_helpers import TOWNSHIP, SimEnv


def _audit(sim_env: SimEnv, state: str, *args: str) -> list[dict[str, str]]:
    proc = sim_env.exporter("audit", "--inventory", str(sim_env.inventory), "--township", TOWNSHIP,
                            "--snmp-port", str(sim_env.sim.snmp_port), "--onvif-port", str(sim_env.sim.onvif_port),
                            "--state-dir", state, "--format", "json", "--rate", "200", *args)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def test_default_snmp_community_found_exactly_where_accepted(sim_env: SimEnv, tmp_path: object) -> None:
    inv = load_inventory(sim_env.inventory)
    switches = sorted(d.id for d in inv.active_devices() if d.township == TOWNSHIP and d.kind == "switch")[:5]
    platforms = sorted(d.id for d in inv.active_devices() if d.township == TOWNSHIP and d.auth == "platforms")
    # the township platform and its recorders: the devices whose SNMP still answers 'public'
    assert sorted(d.kind for d in inv.active_devices() if d.id in platforms) == ["nvr", "nvr", "platform"]
    args = [a for d in [*platforms, *switches] for a in ("--device", d)]
    findings = _audit(sim_env, str(tmp_path), "--check", "snmp_default_community", *args)
    assert sorted(f["device"] for f in findings) == platforms
    assert {f["severity"] for f in findings} == {"critical"}
    assert all("'public'" in f["detail"] for f in findings)


def test_vendor_default_onvif_password_and_weak_snmp(sim_env: SimEnv, tmp_path: object) -> None:
    inv = load_inventory(sim_env.inventory)
    cams = [d for d in inv.active_devices() if d.township == TOWNSHIP and d.kind == "camera"]
    pick = {}
    for vendor, auth in (("hikvision", "cams-legacy"), ("dahua", "cams-legacy"), ("uniview", "cams-legacy"),
                         ("hikvision", "cams-v3")):
        pick[(vendor, auth)] = sorted(d.id for d in cams if d.vendor == vendor and d.auth == auth)[0]
    args = [a for d in pick.values() for a in ("--device", d)]
    findings = _audit(sim_env, str(tmp_path), "--check", "onvif_default_password",
                      "--check", "snmp_not_v3_authpriv", *args)
    got = Counter((f["check"], f["device"]) for f in findings)
    assert got == Counter({
        ("onvif_default_password", pick[("hikvision", "cams-legacy")]): 1,
        ("snmp_not_v3_authpriv", pick[("hikvision", "cams-legacy")]): 1,
        ("snmp_not_v3_authpriv", pick[("dahua", "cams-legacy")]): 1,
        ("snmp_not_v3_authpriv", pick[("uniview", "cams-legacy")]): 1,
    }), findings
    onvif = next(f for f in findings if f["check"] == "onvif_default_password")
    assert onvif["detail"] == "vendor default ONVIF password accepted"
    text = json.dumps(findings) + (tmp_path / "metrics.prom").read_text()  # type: ignore[operator]
    assert "12345" not in text  # the tried password appears nowhere
    assert 'sharpeyes_audit_finding_info{check="onvif_default_password"' in text


def test_clock_offset_and_firmware_deny_list(sim_env: SimEnv, tmp_path: object) -> None:
    from pathlib import Path

    state = Path(str(tmp_path))
    inv = load_inventory(sim_env.inventory)
    cams = sorted((d for d in inv.active_devices() if d.township == TOWNSHIP and d.kind == "camera"),
                  key=lambda d: d.id)
    drifting = cams[0]
    sim_env.sim.clear()
    sim_env.sim.fault("clock_drift", drifting.id, seconds=900)
    try:
        sim_env.discover(state)
    finally:
        sim_env.sim.clear()
    deny = state / "deny.yaml"
    bad = next(d for d in cams if d.vendor == "dahua")
    deny.write_text(f'- {{vendor: dahua, firmware: "{bad.firmware}", reason: "test advisory SA-0001"}}\n')
    n_bad = sum(1 for d in cams if d.vendor == "dahua" and d.firmware == bad.firmware)
    findings = _audit(sim_env, str(state), "--check", "clock_offset", "--check", "firmware_denylist",
                      "--deny-list", str(deny))
    got = Counter(f["check"] for f in findings)
    assert got == Counter({"clock_offset": 1, "firmware_denylist": n_bad}), findings
    clock = next(f for f in findings if f["check"] == "clock_offset")
    assert clock["device"] == drifting.id and ("+899" in clock["detail"] or "+900" in clock["detail"])

"""The discovery/audit results as Prometheus text, written to a file the exporter serves on
``/discovery/metrics`` (or node_exporter's textfile collector reads).

Series (all from the latest cached run; labels carry no secret):
``sharpeyes_discovery_finding_info{type,device,switch,port,village,township,contractor,mac,severity}`` 1,
``sharpeyes_discovery_findings{type,severity}`` (counts, 0 for types without findings),
``sharpeyes_discovery_last_run_timestamp_seconds``, ``sharpeyes_discovery_duration_seconds``,
``sharpeyes_discovery_devices_polled{protocol,result}``,
``sharpeyes_audit_finding_info{check,device,township,contractor,severity}`` 1,
``sharpeyes_audit_last_run_timestamp_seconds``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sharpeyes.exporters.discovery.model import AuditFinding, Observations
from sharpeyes.exporters.discovery.reconcile import SEVERITY, TYPES, Finding
from sharpeyes.exporters.exposition import TextWriter


def render(obs: Observations | None, findings: Iterable[Finding], audit: Iterable[AuditFinding] = (),
           audit_meta: dict[str, Any] | None = None) -> str:
    out = TextWriter()
    findings = list(findings)
    if obs is not None:
        out.gauge("sharpeyes_discovery_last_run_timestamp_seconds",
                  "When the last discovery run finished (POSIX seconds).", round(obs.finished, 3))
        out.gauge("sharpeyes_discovery_duration_seconds", "How long the last discovery run took.",
                  round(obs.duration_s, 3))
        polled = Counter((p.protocol, "success" if p.ok else "failure") for p in obs.polls)
        for proto in ("snmp", "cli", "onvif"):
            for result in ("success", "failure"):
                out.gauge("sharpeyes_discovery_devices_polled",
                          "Devices polled in the last run, by protocol and result.",
                          polled.get((proto, result), 0), {"protocol": proto, "result": result})
    counts = Counter(f.type for f in findings)
    for t in TYPES:
        out.gauge("sharpeyes_discovery_findings", "Findings of the last reconciliation, by type.",
                  counts.get(t, 0), {"type": t, "severity": SEVERITY[t]})
    for f in findings:
        out.gauge("sharpeyes_discovery_finding_info",
                  "A discrepancy between the network and the inventory (value 1).", 1, {
                      "type": f.type, "device": f.device, "switch": f.switch, "port": f.port,
                      "village": f.village, "township": f.township, "contractor": f.contractor,
                      "mac": f.mac, "severity": f.severity})
    if audit_meta:
        out.gauge("sharpeyes_audit_last_run_timestamp_seconds",
                  "When the last security audit finished (POSIX seconds).", round(audit_meta["finished"], 3))
    for a in audit:
        out.gauge("sharpeyes_audit_finding_info", "A security audit finding (value 1).", 1, {
            "check": a.check, "device": a.device, "township": a.township, "contractor": a.contractor,
            "severity": a.severity})
    return out.render()

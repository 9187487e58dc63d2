"""Message text: zh-CN first, then English."""

from __future__ import annotations

from typing import Any

EVENT_ZH = {"opened": "新建", "reopened": "重开", "resolved": "已恢复", "closed": "已关闭",
            "breached": "超时", "merged": "已合并", "rejected": "验收驳回"}
SEVERITY_ZH = {"critical": "严重", "warning": "警告"}
SLA_ZH = {"response": "响应", "repair": "修复"}


def title(payload: dict[str, Any]) -> str:
    t, ev = payload["ticket"], payload["event"]
    return (f"【雪亮工程故障工单 #{t['id']} {EVENT_ZH.get(ev, ev)}】{t['title_zh'] or t['root_key']}"
            f" / Ticket #{t['id']} {ev}: {t['title'] or t['root_key']}")


def lines(payload: dict[str, Any]) -> list[str]:
    t, ev, extra = payload["ticket"], payload["event"], payload.get("extra") or {}
    sev = t["severity"]
    out = [
        f"级别 Severity: {SEVERITY_ZH.get(sev, sev)} / {sev}",
        f"根因 Root cause: {t['root_key']}",
        f"乡镇 Township: {t['township'] or '-'}  村 Village: {t['village'] or '-'}  ({t['area'] or '-'})",
        f"维保单位 Contractor: {t['contractor'] or '-'}",
        f"状态 State: {t['state']}",
        f"响应期限 Response due: {t['response_due']}",
        f"修复期限 Repair due: {t['repair_due']}",
    ]
    if ev == "breached":
        kind = str(extra.get("sla", ""))
        out.insert(0, f"SLA {SLA_ZH.get(kind, kind)}超时 / {kind} SLA breached")
    if t.get("merged_into"):
        out.append(f"已并入工单 Merged into ticket #{t['merged_into']}")
    if ev == "rejected":
        out.insert(0, f"验收驳回 Closure rejected: {extra.get('reason', '')}")
    if payload.get("url"):
        out.append(f"打开工单 Open: {payload['url']}")
    return out


def markdown(payload: dict[str, Any]) -> str:
    body = "\n".join(f"> {line}" for line in lines(payload) if not line.startswith("打开工单"))
    link = f"\n\n[打开工单 / Open ticket]({payload['url']})" if payload.get("url") else ""
    return "### " + title(payload) + "\n" + body + link


def plain(payload: dict[str, Any]) -> str:
    return title(payload) + "\n\n" + "\n".join(lines(payload)) + "\n"

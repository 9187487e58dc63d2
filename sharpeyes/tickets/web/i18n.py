"""Page text, zh-CN first, English on the switch; and the root cause said in plain words."""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")

T: dict[str, tuple[str, str]] = {
    "app": ("维保工单", "Maintenance tickets"),
    "login": ("登录", "Log in"), "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"), "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误，或账号已暂时锁定",
                     "Wrong name or password, or the account is locked for a while"),
    "too_many": ("尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "tickets": ("工单", "Tickets"), "no_tickets": ("没有待处理的工单", "No open tickets"),
    "left": ("剩余", "left"), "overdue": ("已超时", "overdue"),
    "response_due": ("响应期限", "Response due"), "repair_due": ("修复期限", "Repair due"),
    "cause": ("故障原因", "Root cause"), "devices": ("受影响设备", "Affected devices"),
    "live_unavailable": ("实时状态暂不可用", "Live state unavailable"),
    "site": ("位置", "Site"), "map": ("在地图中打开", "Open in map"),
    "timeline": ("告警与处理记录", "Timeline"), "photos": ("现场照片", "Photos"),
    "before": ("维修前", "Before"), "after": ("维修后", "After"),
    "acknowledge": ("响应确认", "Acknowledge"), "arrive": ("已到达现场", "Arrived on site"),
    "comment": ("添加备注", "Add note"), "note": ("备注", "Note"),
    "upload": ("上传照片", "Upload photo"), "close": ("修复完成，关闭工单", "Repaired — close"),
    "cause_category": ("故障原因类别", "Cause category"),
    "parts": ("更换部件（逗号分隔）", "Parts replaced (comma-separated)"),
    "approve": ("验收通过", "Approve"), "reject": ("驳回", "Reject"), "reason": ("原因", "Reason"),
    "assign": ("派单", "Assign"), "assignee": ("处理人", "Assignee"), "unassigned": ("未指派", "unassigned"),
    "state": ("状态", "State"), "review": ("验收", "Review"),
    "breaches": ("本月SLA超时", "SLA breaches this month"), "contractor": ("维保单位", "Contractor"),
    "response_breaches": ("响应超时", "Response breaches"), "repair_breaches": ("修复超时", "Repair breaches"),
    "total": ("工单数", "Tickets"), "people": ("人员管理", "People"), "role": ("角色", "Role"),
    "zones": ("负责乡镇（逗号分隔，空=全部）", "Townships (comma-separated, empty = all)"),
    "add_user": ("添加人员", "Add person"), "save": ("保存", "Save"), "active": ("启用", "Active"),
    "new_password": ("新密码（留空不改）", "New password (empty: unchanged)"),
    "display_name": ("姓名", "Name"), "vqd_last": ("最新画面", "Last still"),
    "vqd_ref": ("参考画面", "Reference still"), "back": ("返回", "Back"), "done": ("已保存", "Saved"),
    "waiting_review": ("待验收", "Waiting for approval"), "approved": ("已验收", "Approved"),
    "all_tickets": ("全部", "All"), "open_only": ("未关闭", "Open"),
}

STATES: dict[str, tuple[str, str]] = {
    "open": ("待响应", "open"), "acknowledged": ("已响应", "acknowledged"),
    "in_progress": ("处理中", "in progress"), "resolved": ("已恢复", "resolved"),
    "closed": ("已关闭", "closed"), "merged": ("已合并", "merged"),
}
LIVE: dict[str, tuple[str, str]] = {
    "up": ("在线", "online"), "down": ("离线", "offline"), "stream_down": ("在线无视频", "no video"),
    "unknown": ("未知", "unknown"),
}
CAUSES: dict[str, tuple[str, str]] = {
    "power": ("停电/电源", "power"), "fiber": ("光纤", "fiber"), "switch": ("交换机", "switch"),
    "camera": ("摄像机", "camera"), "nvr": ("录像机", "NVR"), "network_config": ("网络配置", "network config"),
    "theft_vandalism": ("盗窃/破坏", "theft/vandalism"), "weather": ("天气", "weather"),
    "construction": ("施工", "construction"), "third_party": ("第三方", "third party"), "other": ("其他", "other"),
}
ROLES: dict[str, tuple[str, str]] = {
    "technician": ("维修人员", "technician"), "manager": ("维保负责人", "contractor manager"),
    "supervisor": ("监管（区县中心）", "supervisor"), "admin": ("管理员", "admin"),
}
ACTIONS: dict[str, tuple[str, str]] = {
    "open": ("新建", "opened"), "attach": ("新告警", "alert joined"), "acknowledge": ("响应", "acknowledged"),
    "start": ("开始处理", "started"), "arrive": ("到达现场", "arrived"), "comment": ("备注", "note"),
    "quiet": ("告警恢复", "alerts quiet"),
    "reconcile": ("告警已消失（核对告警管理器）", "alert gone (checked with Alertmanager)"),
    "resolve": ("已恢复", "resolved"), "close": ("关闭", "closed"),
    "reopen": ("重开", "reopened"), "merge": ("合并", "merged"), "absorb": ("并入", "absorbed"),
    "escalate": ("升级", "escalated"), "breach": ("SLA超时", "SLA breached"), "approve": ("验收通过", "approved"),
    "reject": ("验收驳回", "rejected"), "assign": ("派单", "assigned"), "photo": ("照片", "photo"),
}
SCOPE_PLAIN: dict[str, tuple[str, str]] = {
    "fiber_link": ("光纤链路 {id} 中断，其后的 {n} 台设备全部离线。",
                   "Fiber link {id} is cut; the {n} devices behind it are offline."),
    "switch": ("交换机 {id} 故障，其下的 {n} 台设备受影响。",
                   "Switch {id} has failed; {n} devices behind it are affected."),
    "village": ("村 {id} 整体离线（多为停电），{n} 台设备受影响。",
                   "Village {id} is offline (usually power); {n} devices affected."),
    "township": ("乡镇 {id} 整体离线，{n} 台设备受影响。",
                   "Township {id} is offline; {n} devices affected."),
    "device": ("设备 {id} 故障。", "Device {id} has a fault."),
}


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "zh"


def tr(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def plain_cause(t: dict[str, Any], lang: str) -> str:
    scope, _, ident = str(t.get("root_key", "")).partition(":")
    text = tr(SCOPE_PLAIN, scope, lang) if scope in SCOPE_PLAIN else ""
    n = len(t.get("devices") or ())
    return text.format(id=ident, n=n) if text else ""


def helpers(lang: str) -> dict[str, Any]:
    """Template globals for one request's language."""
    return {
        "lang": lang, "_": lambda k: tr(T, k, lang), "state_name": lambda k: tr(STATES, k, lang),
        "live_name": lambda k: tr(LIVE, k, lang), "cause_name": lambda k: tr(CAUSES, k, lang),
        "role_name": lambda k: tr(ROLES, k, lang), "action_name": lambda k: tr(ACTIONS, k, lang),
        "plain_cause": lambda t: plain_cause(t, lang),
    }

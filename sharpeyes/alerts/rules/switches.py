"""Switch alerts: switch down (scope ``switch``); a camera's switch port down or flapping (``device``)."""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import CAMERA_PLACE_EN, CAMERA_PLACE_ZH, Group, alert, group
from sharpeyes.contract import DEVICE_INFO, PORT_ADMIN_UP, PORT_UP, PROBE_SUCCESS, TARGET_LABELS

# camera labels copied from sharpeyes_device_info onto a port-down alert (device/port come from the port)
_CAMERA_LABELS = tuple(label for label in TARGET_LABELS if label != "device")


def groups(cfg: Config) -> list[Group]:
    j, t = cfg.jobs, cfg.thresholds
    raw_port_up = f"{PORT_UP}{cfg.sel(j.snmp_switch, port_device='!')}"
    # an administratively shut port is a planned shutdown, not a fault ticket
    port_up = (
        f"({raw_port_up}"
        f" unless on (job, instance, if_index)"
        f" {PORT_ADMIN_UP}{cfg.sel(j.snmp_switch, port_device='!')} == 0)"
    )
    # state changes of each camera port within the flap window, keyed like the port-down series
    changes = f"""max by (device, port) (
                label_replace(changes({raw_port_up}[{t.flap_window}]), "device", "$1", "port_device", "(.+)")
              )"""
    rules = [
        alert(
            cfg,
            "SwitchDown",
            f"{PROBE_SUCCESS}{cfg.sel(j.icmp, kind='switch')} == 0",
            scope="switch",
            summary_zh="交换机离线：${device}（${role}，${township}/${village}，维保单位 ${contractor}）",
            summary="Switch down: ${device} (${role}, ${township}/${village}, contractor ${contractor})",
            description_zh="交换机 ${device}（${role}）ICMP 不可达，其下游摄像机全部中断。"
            "上联 ${uplink_switch} 端口 ${uplink_port}，光纤链路 ${fiber_link}。",
            description="Switch ${device} (${role}) does not answer ICMP; every camera behind it is dark. "
            "Uplink ${uplink_switch} port ${uplink_port}, fiber link ${fiber_link}.",
        ),
        alert(
            cfg,
            "SwitchPortDown",
            f"""
            (
              min by (device, port) (
                label_replace({port_up}, "device", "$1", "port_device", "(.+)")
              ) == 0
              unless on (device, port)
              {changes} >= {t.flap_suppress_changes}
            )
            * on (device) group_left ({", ".join(_CAMERA_LABELS)})
            {DEVICE_INFO}{cfg.sel(j.inventory, kind="camera")}
            """,
            scope="device",
            summary_zh=f"摄像机所在交换机端口断开：${{uplink_switch}} ${{port}} → ${{device}}"
            f"（{CAMERA_PLACE_ZH}"
            "）",
            summary=f"Switch port down under camera: ${{uplink_switch}} ${{port}} -> ${{device}}"
            f" ({CAMERA_PLACE_EN})",
            description_zh="交换机 ${uplink_switch} 端口 ${port} 链路断开，该端口下在用摄像机 ${device} 中断"
            "（网线、水晶头、PoE 供电或摄像机掉电）。",
            description="Port ${port} of switch ${uplink_switch} is down; active camera ${device}"
            " on it is dark "
            "(cable, connector, PoE or camera power).",
        ),
        alert(
            cfg,
            "SwitchPortFlapping",
            f"""
            ({changes} >= {t.flap_changes})
            * on (device) group_left ({", ".join(_CAMERA_LABELS)})
            {DEVICE_INFO}{cfg.sel(j.inventory, kind="camera")}
            """,
            scope="device",
            summary_zh=f"摄像机所在交换机端口反复通断：${{uplink_switch}} ${{port}} → ${{device}}"
            f"（{CAMERA_PLACE_ZH}）",
            summary=f"Switch port flapping under camera: ${{uplink_switch}} ${{port}} -> ${{device}}"
            f" ({CAMERA_PLACE_EN})",
            description_zh=f"交换机 ${{uplink_switch}} 端口 ${{port}} 在 {t.flap_window} 内状态变化"
            " ${value:.0f} 次，摄像机 ${device} 视频时断时续（水晶头松动、网线破损、PoE 供电不足）。"
            "一个端口只开一张工单，不按每次断开分别开单。",
            description=f"Port ${{port}} of switch ${{uplink_switch}} changed state ${{value:.0f}} times"
            f" within {t.flap_window}; video of camera ${{device}} comes and goes (loose connector,"
            " damaged cable, weak PoE). One ticket per port, not one per drop.",
        ),
    ]
    return [group(cfg, "sharpeyes.switches", rules)]

"""Switch alerts: switch down (scope ``switch``), switch port down under an active camera (``device``)."""

from __future__ import annotations

from alerts.config import TARGET_LABELS, Config
from alerts.rules.common import CAMERA_PLACE_EN, CAMERA_PLACE_ZH, Group, alert, group

# camera labels copied from sharpeyes_device_info onto a port-down alert (device/port come from the port)
_CAMERA_LABELS = tuple(label for label in TARGET_LABELS if label != "device")


def groups(cfg: Config) -> list[Group]:
    j = cfg.jobs
    port_up = f"sharpeyes_port_up{cfg.sel(j.snmp_switch, port_device='!')}"
    rules = [
        alert(
            cfg,
            "SwitchDown",
            f"probe_success{cfg.sel(j.icmp, kind='switch')} == 0",
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
            )
            * on (device) group_left ({", ".join(_CAMERA_LABELS)})
            sharpeyes_device_info{cfg.sel(j.inventory, kind="camera")}
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
    ]
    return [group(cfg, "sharpeyes.switches", rules)]

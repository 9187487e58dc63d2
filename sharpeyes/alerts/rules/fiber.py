"""Fiber link alerts (scope ``fiber_link``): link down or flapping, optical power low or degrading."""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import Group, alert, group
from sharpeyes.alerts.rules.recording import OPTICAL_MARGIN
from sharpeyes.contract import FIBER_INFO_LABELS, FIBER_LINK_INFO, PORT_ADMIN_UP, PORT_UP

_PLACE_ZH = "${township}，${a_switch} ↔ ${b_switch}，维保单位 ${contractor}"
_PLACE_EN = "${township}, ${a_switch} <-> ${b_switch}, contractor ${contractor}"


def groups(cfg: Config) -> list[Group]:
    j, t = cfg.jobs, cfg.thresholds
    raw_port_up = f"{PORT_UP}{cfg.sel(j.snmp_switch, port_link='!')}"
    # an administratively shut port is a planned shutdown, not a broken link
    port_up = (
        f"({raw_port_up}"
        f" unless on (job, instance, if_index)"
        f" {PORT_ADMIN_UP}{cfg.sel(j.snmp_switch, port_link='!')} == 0)"
    )
    changes = f"""max by (fiber_link) (
                label_replace(changes({raw_port_up}[{t.flap_window}]), "fiber_link", "$1", "port_link", "(.+)")
              )"""
    # a link whose ports keep changing state is flapping (its own alert), not down
    link_down = f"""(
              min by (fiber_link) (
                label_replace({port_up}, "fiber_link", "$1", "port_link", "(.+)")
              ) == 0
              unless on (fiber_link)
              {changes} >= {t.flap_suppress_changes}
            )"""
    flapping = f"({changes} >= {t.flap_changes})"
    horizon = f"{t.optical_predict_days} * 86400"
    predicted = f"predict_linear({OPTICAL_MARGIN}[{t.optical_predict_window}], {horizon})"
    rules = [
        alert(
            cfg,
            "FiberLinkDown",
            # either end reporting its port down is enough: the far end is usually unreachable
            # behind the broken link. Without inventory the alert still fires, with fiber_link only.
            f"""
            {link_down}
            * on (fiber_link) group_left ({", ".join(FIBER_INFO_LABELS)})
            {FIBER_LINK_INFO}{cfg.sel(j.inventory)}
            or on (fiber_link)
            {link_down}
            """,
            scope="fiber_link",
            summary_zh=f"光纤链路中断：${{fiber_link}}（{_PLACE_ZH}）",
            summary=f"Fiber link down: ${{fiber_link}} ({_PLACE_EN})",
            description_zh="光纤链路 ${fiber_link} 端口状态为 down，链路下游的交换机与摄像机全部中断"
            "（断纤、光模块或对端掉电）。",
            description="Fiber link ${fiber_link} reports its port down; switches and cameras"
            " behind it are dark "
            "(cut fiber, optics or far-end power).",
        ),
        alert(
            cfg,
            "FiberLinkFlapping",
            f"""
            {flapping}
            * on (fiber_link) group_left ({", ".join(FIBER_INFO_LABELS)})
            {FIBER_LINK_INFO}{cfg.sel(j.inventory)}
            or on (fiber_link)
            {flapping}
            """,
            scope="fiber_link",
            summary_zh=f"光纤链路反复通断：${{fiber_link}}（{_PLACE_ZH}）",
            summary=f"Fiber link flapping: ${{fiber_link}} ({_PLACE_EN})",
            description_zh=f"光纤链路 ${{fiber_link}} 端口在 {t.flap_window} 内状态变化 ${{value:.0f}} 次，"
            "下游视频时断时续（跳线/法兰松动、熔接点不良、光模块故障）。整条链路只开一张工单。",
            description=f"The ports of fiber link ${{fiber_link}} changed state ${{value:.0f}} times within"
            f" {t.flap_window}; video behind it comes and goes (loose patch cord or flange, bad splice,"
            " failing optics). One ticket for the link.",
        ),
        alert(
            cfg,
            "FiberOpticalPowerLow",
            f"{OPTICAL_MARGIN} < {t.optical_margin_min_db:g}",
            scope="fiber_link",
            summary_zh=f"光纤收光功率余量不足：${{fiber_link}}（{_PLACE_ZH}）",
            summary=f"Fiber optical power low: ${{fiber_link}} ({_PLACE_EN})",
            description_zh=f"光纤链路 ${{fiber_link}} 收光功率距接收灵敏度仅余 ${{value:.1f}} dB"
            f"（阈值 {t.optical_margin_min_db:g} dB），即将断链。清洁/更换跳线或熔接点。",
            description=f"Fiber link ${{fiber_link}} receives only ${{value:.1f}} dB above receiver"
            " sensitivity "
            f"(threshold {t.optical_margin_min_db:g} dB); the link is about to fail. Clean or replace patch "
            "cords, check splices.",
        ),
        alert(
            cfg,
            "FiberOpticalPowerDegrading",
            f"""
            ({predicted} < {t.optical_margin_min_db:g})
            and on (fiber_link)
            ({OPTICAL_MARGIN} >= {t.optical_margin_min_db:g})
            and on (fiber_link)
            (count_over_time({OPTICAL_MARGIN}[{t.optical_predict_window}]) >= {t.optical_min_history_samples})
            """,
            scope="fiber_link",
            summary_zh=f"光纤收光功率持续下降：${{fiber_link}}（{_PLACE_ZH}）",
            summary=f"Fiber optical power degrading: ${{fiber_link}} ({_PLACE_EN})",
            description_zh=f"按近 {t.optical_predict_window} 趋势，光纤链路 ${{fiber_link}} 的收光余量将在 "
            f"{t.optical_predict_days} 天内低于 {t.optical_margin_min_db:g} dB。请在断链前安排巡检。",
            description=f"At the trend of the last {t.optical_predict_window}, the optical margin"
            " of fiber link "
            f"${{fiber_link}} falls below {t.optical_margin_min_db:g} dB within"
            f" {t.optical_predict_days} days. "
            "Schedule an inspection before it fails.",
        ),
    ]
    return [group(cfg, "sharpeyes.fiber", rules)]

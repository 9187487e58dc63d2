"""Place alerts: village offline (scope ``village``), township platform offline (scope ``township``)."""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import Group, alert, group
from sharpeyes.alerts.rules.recording import VILLAGE_PATH_INFO, VILLAGE_PATH_LABELS
from sharpeyes.contract import PROBE_SUCCESS


def groups(cfg: Config) -> list[Group]:
    j, t = cfg.jobs, cfg.thresholds
    cams = f"{PROBE_SUCCESS}{cfg.sel(j.icmp, kind='camera', village='~.+')}"
    village_dark = f"""(
              (max by (township, village, area) ({cams}) == 0)
              and on (township, village)
              (count by (township, village) ({cams}) >= {t.village_min_cameras})
            )"""
    rules = [
        alert(
            cfg,
            "VillageOffline",
            # carries the path labels all the village's cameras share (sharpeyes:village_path_info),
            # so an upstream switch/fiber alert inhibits it; falls back to bare labels without inventory
            f"""
            {village_dark}
            * on (township, village) group_left ({", ".join(VILLAGE_PATH_LABELS)})
            {VILLAGE_PATH_INFO}
            or on (township, village)
            {village_dark}
            """,
            scope="village",
            summary_zh="整村摄像机离线：${township}/${village}",
            summary="Village offline: ${township}/${village}",
            description_zh="${township}/${village} 全部摄像机 ICMP 不可达（村级供电、接入交换机"
            " ${access_switch}"
            " "
            "或光纤 ${fiber_link}）。维保单位 ${contractor}。",
            description="Every camera in ${township}/${village} is unreachable (village power, access switch "
            "${access_switch} or fiber ${fiber_link}). Contractor ${contractor}.",
        ),
        alert(
            cfg,
            "TownshipPlatformOffline",
            f"{PROBE_SUCCESS}{cfg.sel(j.icmp, kind='platform', township='~.+')} == 0",
            scope="township",
            summary_zh="乡镇视频平台离线：${township}（${device}）",
            summary="Township video platform offline: ${township} (${device})",
            description_zh="乡镇 ${township} 视频平台 ${device} ICMP 不可达，本乡镇视频无法汇聚上传。"
            "汇聚交换机 ${agg_switch}，维保单位 ${contractor}。",
            description="Video platform ${device} of township ${township} does not answer ICMP; the"
            " township's "
            "video cannot reach the district. Aggregation switch ${agg_switch}, contractor ${contractor}.",
        ),
    ]
    return [group(cfg, "sharpeyes.places", rules)]

"""Alerts on the monitoring itself (scope ``monitoring``), so a monitoring outage is never read as
camera downtime. The ``MONITORING_BLIND_ALERTS`` of config.py inhibit every device alert."""

from __future__ import annotations

from sharpeyes.alerts.config import Config
from sharpeyes.alerts.rules.common import Group, alert, group
from sharpeyes.contract import DEVICE_INFO, PROBE_SUCCESS


def groups(cfg: Config) -> list[Group]:
    j, t = cfg.jobs, cfg.thresholds
    probe_jobs = cfg.sel(None, job="~" + "|".join(j.probe_jobs()))
    icmp = f"{PROBE_SUCCESS}{cfg.sel(j.icmp)}"
    rules = [
        alert(
            cfg,
            "SharpeyesExporterDown",
            f"up{cfg.sel(j.exporter)} == 0 or absent(up{cfg.sel(j.exporter)})",
            scope="monitoring",
            summary_zh="监控探测程序不可用：${instance}",
            summary="sharpeyes exporter down: ${instance}",
            description_zh="Prometheus 无法抓取 sharpeyes-exporter 自身指标，设备探测已停止；"
            "期间设备告警被抑制，且不计入在线率考核时长。",
            description="Prometheus cannot scrape sharpeyes-exporter; probing has stopped. Device alerts are "
            "inhibited and the gap does not count in the online rate.",
        ),
        alert(
            cfg,
            "SharpeyesProbeScrapesFailing",
            f"""
            (sum by (job) (up{probe_jobs} == bool 0) / count by (job) (up{probe_jobs}))
            > {t.scrape_failure_ratio:g}
            """,
            scope="monitoring",
            summary_zh="探测抓取失败比例过高：${job}",
            summary="Probe scrapes failing: ${job}",
            description_zh="${job} 有 ${value:pct} 的探测抓取失败（exporter 过载或超时），不是设备"
            "故障；期间设备告警被抑制"
            "。",
            description="${value:pct} of ${job} probe scrapes fail (exporter overloaded or timing"
            " out), not the "
            "devices; device alerts are inhibited meanwhile.",
        ),
        alert(
            cfg,
            "SharpeyesProbeFailuresHigh",
            f"""
            (sum(({icmp}) == bool 0) / count({icmp})) > {t.probe_failure_ratio:g}
            and
            count({icmp}) >= {t.probe_failure_min_targets}
            """,
            scope="monitoring",
            summary_zh="全区探测失败比例过高",
            summary="District-wide probe failures high",
            description_zh="全区 ${value:pct} 的 ICMP 探测失败：监控主机网络或区级核心故障，而非大"
            "量摄像机同时故障"
            "；"
            "期间设备告警被抑制。",
            description="${value:pct} of all ICMP probes fail: the monitoring host's network or the"
            " district core, "
            "not thousands of cameras at once; device alerts are inhibited meanwhile.",
        ),
        alert(
            cfg,
            "SharpeyesInventoryScrapeDown",
            f"up{cfg.sel(j.inventory)} == 0 or absent(up{cfg.sel(j.inventory)})",
            scope="monitoring",
            summary_zh="资产清单指标不可用",
            summary="Inventory metrics unavailable",
            description_zh="无法抓取 /inventory/metrics：在线率记录规则与拓扑标签缺失，期间不计入考核时长。",
            description="/inventory/metrics cannot be scraped: online-rate recordings and topology joins are "
            "missing; the gap does not count in the online rate.",
        ),
        alert(
            cfg,
            "SharpeyesTargetsMissing",
            f"count({DEVICE_INFO}{cfg.sel(j.inventory)} unless on (device) up{cfg.sel(j.icmp)}) > 0",
            scope="monitoring",
            summary_zh="在用设备未被探测：${value:.0f} 台",
            summary="Active devices not probed: ${value:.0f}",
            description_zh="清单中 ${value:.0f} 台在用设备不在服务发现的探测目标中，其离线不会告警"
            "。检查 SD 文件/接口"
            "。",
            description="${value:.0f} active inventory devices are missing from service discovery;"
            " their outages "
            "would go unnoticed. Check the SD file/endpoint.",
        ),
    ]
    return [group(cfg, "sharpeyes.monitoring", rules)]

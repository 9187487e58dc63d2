"""What every dashboard shares: language choice, datasource, uids, folders, PromQL fragments, panel helpers.

Every user-facing string is written as a ``(zh, en)`` pair (:data:`Text`) and resolved by the
:class:`Lang` the build runs with; nothing else in a dashboard module depends on the language.

Job, metric and recording-rule names come from :mod:`sharpeyes.contract`, the same names the exporter
writes and the alert rules record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from grafana_foundation_sdk.builders import bargauge, geomap, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import text as text_panel  # noqa: F401  (dashboards use it)
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import geomap as geomap_models
from grafana_foundation_sdk.models import prometheus as pm
from grafana_foundation_sdk.models import text as text_models  # noqa: F401  (dashboards use it)

from sharpeyes.contract import (
    DEVICE_INFO,
    JOB_EXPORTER,
    JOB_INVENTORY,
    JOB_TICKETS,
    MODULES,
    REC_DEVICE_MONITORED,
    REC_DEVICE_REACHABLE,
    REC_DEVICE_UP,
    REC_OPTICAL_MARGIN,
    VQD_IMAGE_INTACT,
    default_address,
    job,
    rec_bitrate,
    rec_online,
)

Text = tuple[str, str]  # (zh-CN, English)
LANGS: Final = ("zh", "en")
_CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


@dataclass(frozen=True)
class Lang:
    code: str  # "zh" | "en"

    def __post_init__(self) -> None:
        if self.code not in LANGS:
            raise ValueError(f"language {self.code!r} is not one of {', '.join(LANGS)}")

    def __call__(self, text: Text) -> str:
        zh, en = text
        if not _CJK.search(zh) or _CJK.search(en):
            raise ValueError(f"text pair {text!r} must be (zh-CN, English)")
        return zh if self.code == "zh" else en

    def pick(self, zh: str, en: str) -> str:
        """A language-specific non-text setting (a unit id, a suffix) that need not contain Chinese."""
        return zh if self.code == "zh" else en


def has_cjk(s: str) -> bool:
    return bool(_CJK.search(s))


# ---------------------------------------------------------------------------------------------- ids
DATASOURCE_UID: Final = "sharpeyes-prometheus"  # fixed in provisioning/datasources/sharpeyes.yaml
DS: Final = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")

# dashboard name (module) -> stable uid; the same uid in every language (one language per Grafana org)
UIDS: Final[dict[str, str]] = {
    "overview": "sharpeyes-overview",
    "township": "sharpeyes-township",
    "camera": "sharpeyes-camera",
    "fiber": "sharpeyes-fiber",
    "switches": "sharpeyes-switches",
    "tickets": "sharpeyes-tickets",
    "monitoring": "sharpeyes-monitoring",
    "recording": "sharpeyes-recording",
}
# audience folders: key -> (folder uid, (zh title, en title))
FOLDERS: Final[dict[str, tuple[str, Text]]] = {
    "district": ("sharpeyes-district", ("区中心", "District centre")),
    "contractors": ("sharpeyes-contractors", ("运维单位", "Contractors")),
    "monitoring": ("sharpeyes-monitoring-self", ("监控自身", "Monitoring")),
}
AUDIENCE: Final[dict[str, str]] = {
    "overview": "district",
    "township": "district",
    "tickets": "district",
    "camera": "contractors",
    "fiber": "contractors",
    "switches": "contractors",
    "monitoring": "monitoring",
    "recording": "contractors",
}
TAGS: Final = ["sharpeyes"]
TIMEZONE: Final = "Asia/Shanghai"  # the district's time zone: "today" starts at local midnight
TICKETS_URL: Final = f"http://{default_address('tickets')}"  # sharpeyes-tickets (the demo default)
EXPORTER_URL: Final = f"http://{default_address('exporter')}"  # sharpeyes-exporter: /vqd/<device>/last.jpg

# -------------------------------------------------------------------------------------- thresholds
ONLINE_TARGET: Final = 0.95  # supervisors' online-rate target (全时在线率考核目标)
OPTICAL_MARGIN_MIN_DB: Final = 3.0  # alerts/config.py Thresholds.optical_margin_min_db
CLOCK_DRIFT_SECONDS: Final = 10.0  # alerts/config.py Thresholds.clock_drift_seconds
ONVIF_LOOKBACK: Final = "10m"  # ONVIF probes every 300 s

# ---------------------------------------------------------------------- jobs, metrics, recordings
JOB_ICMP: Final = job("icmp")
JOB_RTSP: Final = job("rtsp")
JOB_SNMP_CAMERA: Final = job("snmp_camera")
JOB_SNMP_SWITCH: Final = job("snmp_switch")
JOB_ONVIF: Final = job("onvif")
JOB_SNAPSHOT: Final = job("snapshot")
# 图像完好 (video quality diagnosis): share of judged stills with an intact picture, per label set
IMAGE_INTACT: Final = f'{VQD_IMAGE_INTACT}{{job="{JOB_SNAPSHOT}"}}'
PROBE_JOBS: Final = tuple(m.job for m in MODULES.values())
PROBE_JOBS_RE: Final = "|".join(PROBE_JOBS)
ALL_JOBS_RE: Final = "|".join((*PROBE_JOBS, JOB_INVENTORY, JOB_EXPORTER, JOB_TICKETS))

DEVICE_UP: Final = REC_DEVICE_UP
DEVICE_REACHABLE: Final = REC_DEVICE_REACHABLE
DEVICE_MONITORED: Final = REC_DEVICE_MONITORED
BITRATE: Final = rec_bitrate()
OPTICAL_MARGIN: Final = REC_OPTICAL_MARGIN


def online(level: str, what: str) -> str:
    """``online("township", "ratio")`` -> ``sharpeyes:camera_online:ratio_township``."""
    return rec_online(level)[what]


def rate_over_range(level: str, sel: str = "") -> str:
    """Time-weighted online rate over the panel's range (recording-rules.md: never average ratios)."""
    return (
        f"sum_over_time({online(level, 'up')}{sel}[$__range])\n"
        f"/ sum_over_time({online(level, 'monitored')}{sel}[$__range])"
    )


def info(kind: str | None = None, extra: str = "") -> str:
    """``info("camera", ', township=~"$township"')`` -> the inventory series with those matchers."""
    kind_m = f', kind="{kind}"' if kind else ""
    return f'{DEVICE_INFO}{{job="{JOB_INVENTORY}"{kind_m}{extra}}}'


def sel(kind: str | None = None, extra: str = "") -> str:
    """A selector body for recorded/probe series: ``{kind="camera", township=~"$township"}``."""
    parts = ([f'kind="{kind}"'] if kind else []) + ([extra.lstrip(", ")] if extra else [])
    return "{" + ", ".join(parts) + "}" if parts else ""


def with_device_info(expr: str, info_sel: str, labels: str = "name, township, village, contractor") -> str:
    """One series per device with the same label set whatever ``expr`` is, so table queries merge."""
    return f"max by (device) (\n  {expr}\n)\n* on (device) group_left ({labels})\n{info_sel}"


TICKETS_UP: Final = f'up{{job="{JOB_TICKETS}"}} == 1'


def zero_if_tickets_up(expr: str) -> str:
    """``expr``, or 0 when the ticket service is scraped and simply has nothing to count."""
    return f"{expr}\nor (0 * sum({TICKETS_UP}))"


def zero_by_contractor(expr: str, extra: str = "") -> str:
    """``expr`` by contractor, with 0 for every inventory contractor while the ticket service is up."""
    return (
        f"{expr}\nor on (contractor)\n(0 * group by (contractor) ({info('camera', extra)})"
        f" and on () ({TICKETS_UP}))"
    )


# ------------------------------------------------------------------------------------------ queries
# Queries that may legitimately return no series on a healthy, freshly started district (reason
# given), filled as dashboards are built. The live test still requires them to parse.
MAY_BE_EMPTY: dict[str, str] = {}


def q(
    expr: str,
    legend: str = "",
    *,
    ref: str = "A",
    instant: bool = False,
    table_fmt: bool = False,
    may_be_empty: str | None = None,
) -> prom.Dataquery:
    expr = _dedent(expr)
    if may_be_empty:
        MAY_BE_EMPTY[expr] = may_be_empty
    b = prom.Dataquery().expr(expr).ref_id(ref).datasource(DS)
    b = b.instant() if instant or table_fmt else b.range()
    if table_fmt:
        b = b.format(pm.PromQueryFormat.TABLE)
    if legend:
        b = b.legend_format(legend)
    return b


def _dedent(expr: str) -> str:
    lines = [ln.rstrip() for ln in expr.strip("\n").splitlines()]
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines[1:] if ln.strip()), default=0)
    return "\n".join([lines[0].strip()] + [ln[indent:] for ln in lines[1:]])


def tq(exprs: list[str], *, may_be_empty: dict[int, str] | None = None) -> list[prom.Dataquery]:
    """Instant table queries A, B, C, … (merged by :func:`merge_table`)."""
    empty = may_be_empty or {}
    return [
        q(e, ref=chr(ord("A") + i), table_fmt=True, may_be_empty=empty.get(i)) for i, e in enumerate(exprs)
    ]


# ----------------------------------------------------------------------------------------- fields
def thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


def online_thresholds() -> db.ThresholdsConfig:
    return thresholds((None, "red"), (ONLINE_TARGET - 0.05, "orange"), (ONLINE_TARGET, "green"))


def value_map(lang: Lang, entries: dict[str, tuple[Text, str]]) -> dm.ValueMap:
    return dm.ValueMap(
        options={
            k: dm.ValueMappingResult(text=lang(t), color=c, index=i)
            for i, (k, (t, c)) in enumerate(entries.items())
        }
    )


def range_map(lang: Lang, lo: float, hi: float, text: Text, color: str) -> dm.RangeMap:
    return dm.RangeMap(
        options=dm.DashboardRangeMapOptions(
            from_val=lo, to=hi, result=dm.ValueMappingResult(text=lang(text), color=color)
        )
    )


STATE_ENTRIES: Final[dict[str, tuple[Text, str]]] = {
    "2": (("在线", "Online"), "green"),
    "1": (("RTSP 无响应", "RTSP down"), "orange"),
    "0": (("不可达", "Unreachable"), "red"),
    "-1": (("未监测", "Not measured"), "gray"),
}
UP_ENTRIES: Final[dict[str, tuple[Text, str]]] = {
    "1": (("正常", "Up"), "green"),
    "0": (("故障", "Down"), "red"),
}


def camera_state(extra: str = "") -> str:
    """2 online, 1 pingable but RTSP down, 0 unreachable; -1 (not measured) is added by callers."""
    return f"{DEVICE_UP}{sel('camera', extra)} + on (device) {DEVICE_REACHABLE}{sel('camera', extra)}"


def unit_count(lang: Lang) -> str:
    return lang.pick("suffix: 台", "short")


def unit_tickets(lang: Lang) -> str:
    return lang.pick("suffix: 张", "short")


def unit_duration(lang: Lang) -> str:
    return lang.pick("dtdhms", "dtdurations")


def unit_days(lang: Lang) -> str:
    return lang.pick("suffix: 天", "suffix: d")


# -------------------------------------------------------------------------------------- panels
def dashboard(lang: Lang, name: str, title: Text, description: Text) -> db.Dashboard:
    return (
        db.Dashboard(lang(title))
        .uid(UIDS[name])
        .description(lang(description))
        .tags(TAGS)
        .timezone(TIMEZONE)
        .time("now-6h", "now")
        .refresh("1m")
        .editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable(lang))
        .links([nav_links(lang)])
    )


def nav_links(lang: Lang) -> db.DashboardLink:
    return (
        db.DashboardLink(lang(("雪亮工程监控", "Sharp Eyes monitoring")))
        .type(dm.DashboardLinkType.DASHBOARDS)
        .tags(TAGS)
        .as_dropdown(True)
        .include_vars(False)
        .keep_time(True)
    )


def datasource_variable(lang: Lang) -> db.DatasourceVariable:
    return (
        db.DatasourceVariable("datasource")
        .label(lang(("数据源", "Data source")))
        .type("prometheus")
        .current(dm.VariableOption(selected=True, text=DATASOURCE_UID, value=DATASOURCE_UID))
    )


def query_variable(
    lang: Lang,
    name: str,
    label: Text,
    query: str,
    *,
    multi: bool = False,
    include_all: bool = False,
    hide: bool = False,
) -> db.QueryVariable:
    v = (
        db.QueryVariable(name)
        .label(lang(label))
        .query(query)
        .datasource(DS)
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(include_all)
    )
    if include_all:
        v = v.all_value(".*")
    if hide:
        v = v.hide(dm.VariableHide.HIDE_VARIABLE)
    return v


def constant_variable(name: str, value: str) -> db.ConstantVariable:
    return db.ConstantVariable(name).value(value)


def dash_url(name: str, params: str = "") -> str:
    """Link to another sharpeyes dashboard by uid, keeping the time range and datasource."""
    sep = "&" if params else ""
    return f"/d/{UIDS[name]}?{params}{sep}${{__url_time_range}}&var-datasource=${{datasource}}"


def link(lang: Lang, title: Text, url: str) -> db.DashboardLink:
    return db.DashboardLink(lang(title)).url(url).type(dm.DashboardLinkType.LINK)


def field_link_override(
    lang: Lang,
    field: str,
    title: Text,
    url: str,
) -> tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]:
    return (
        dm.MatcherConfig(id_val="byName", options=field),
        [dm.DynamicConfigValue(id_val="links", value=[{"title": lang(title), "url": url}])],
    )


def rename_override(
    field: str, title: str, **props: Any
) -> tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]:
    values = [dm.DynamicConfigValue(id_val="displayName", value=title)]
    for key, value in props.items():
        values.append(dm.DynamicConfigValue(id_val=_PROP_IDS.get(key, key), value=value))
    return dm.MatcherConfig(id_val="byName", options=field), values


_PROP_IDS: Final = {
    "cell": "custom.cellOptions",
    "width": "custom.width",
    "mappings": "mappings",
    "thresholds": "thresholds",
    "unit": "unit",
    "decimals": "decimals",
    "color": "color",
}


def stat_panel(
    title: str,
    targets: list[prom.Dataquery],
    *,
    unit: str = "short",
    w: int = 4,
    h: int = 4,
    decimals: int | None = None,
    th: db.ThresholdsConfig | None = None,
    mappings: list[dm.ValueMapping] | None = None,
    description: str = "",
    graph: bool = False,
) -> stat.Panel:
    p = (
        stat.Panel()
        .title(title)
        .datasource(DS)
        .targets(list(targets))
        .unit(unit)
        .span(w)
        .height(h)
        .color_mode(cm.BigValueColorMode.VALUE)
        .graph_mode(cm.BigValueGraphMode.AREA if graph else cm.BigValueGraphMode.NONE)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(th or thresholds((None, "blue")))
    )
    if decimals is not None:
        p = p.decimals(decimals)
    if mappings:
        p = p.mappings(mappings)
    if description:
        p = p.description(description)
    return p


def ts_panel(
    title: str,
    targets: list[prom.Dataquery],
    *,
    unit: str = "short",
    w: int = 12,
    h: int = 8,
    th: db.ThresholdsConfig | None = None,
    threshold_line: bool = False,
    description: str = "",
    min_val: float | None = None,
    max_val: float | None = None,
    stack: bool = False,
    draw_step: bool = False,
) -> timeseries.Panel:
    p = (
        timeseries.Panel()
        .title(title)
        .datasource(DS)
        .targets(list(targets))
        .unit(unit)
        .span(w)
        .height(h)
        .line_width(1)
        .fill_opacity(10 if not stack else 40)
        .legend(db_legend())
        .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING))
    )
    if stack:
        p = p.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL))
    if draw_step:
        p = p.line_interpolation(cm.LineInterpolation.STEP_AFTER)
    if th is not None:
        p = p.thresholds(th)
    if threshold_line:
        p = p.thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.DASHED))
    if min_val is not None:
        p = p.min(min_val)
    if max_val is not None:
        p = p.max(max_val)
    if description:
        p = p.description(description)
    return p


def db_legend() -> cb.VizLegendOptions:
    return (
        cb.VizLegendOptions()
        .display_mode(cm.LegendDisplayMode.TABLE)
        .placement(cm.LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(["lastNotNull", "min", "max"])
    )


def table_panel(
    title: str,
    targets: list[prom.Dataquery],
    *,
    keep: dict[str, tuple[str, dict[str, Any]]],
    w: int = 24,
    h: int = 10,
    sort_by: str | None = None,
    desc: bool = False,
    description: str = "",
    links: list[tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]] | None = None,
) -> table.Panel:
    """A table from instant queries: merged, only the ``keep`` fields shown in that order, renamed.

    ``keep`` maps a field name (a label, or ``Value #A`` for query A's value) to (display title,
    extra field properties such as unit/mappings/cell).
    """
    order = {name: i for i, name in enumerate(keep)}
    transformations = [
        dm.DataTransformerConfig(id_val="merge", options={}),
        dm.DataTransformerConfig(
            id_val="organize",
            options={
                "excludeByName": {},
                "includeByName": {name: True for name in keep},
                "indexByName": order,
                "renameByName": {},
            },
        ),
    ]
    p = (
        table.Panel()
        .title(title)
        .datasource(DS)
        .targets(list(targets))
        .span(w)
        .height(h)
        .transformations(transformations)
        .show_header(True)
        .cell_height(cm.TableCellHeight.SM)
    )
    if sort_by:
        p = p.sort_by([cb.TableSortByFieldState().display_name(keep[sort_by][0]).desc(desc)])
    if description:
        p = p.description(description)
    for name, (title_, props) in keep.items():
        matcher, values = rename_override(name, title_, **props)
        p = p.with_override(matcher, values)
    for matcher, values in links or []:
        p = p.with_override(matcher, values)
    return p


def colored_cell() -> dict[str, Any]:
    return {"type": "color-background", "mode": "basic"}


def colored_text() -> dict[str, Any]:
    return {"type": "color-text"}


def mapping_json(m: dm.ValueMapping) -> list[dict[str, Any]]:
    return [m.to_json()]


def bar_panel(
    title: str,
    targets: list[prom.Dataquery],
    *,
    unit: str,
    w: int = 12,
    h: int = 8,
    th: db.ThresholdsConfig | None = None,
    min_val: float | None = None,
    max_val: float | None = None,
) -> bargauge.Panel:
    p = (
        bargauge.Panel()
        .title(title)
        .datasource(DS)
        .targets(list(targets))
        .unit(unit)
        .span(w)
        .height(h)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .display_mode(cm.BarGaugeDisplayMode.BASIC)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(th or thresholds((None, "blue")))
    )
    if min_val is not None:
        p = p.min(min_val)
    if max_val is not None:
        p = p.max(max_val)
    return p


def state_timeline(
    title: str, targets: list[prom.Dataquery], *, mappings: list[dm.ValueMapping], w: int = 24, h: int = 8
) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(DS)
        .targets(list(targets))
        .span(w)
        .height(h)
        .mappings(mappings)
        .show_value(cm.VisibilityMode.NEVER)
        .merge_values(True)
        .thresholds(thresholds((None, "red"), (1, "green")))
    )


def row(lang: Lang, title: Text) -> db.Row:
    return db.Row(lang(title))


def geomap_panel(
    lang: Lang, title: Text, expr: str, *, w: int = 24, h: int = 14, description: Text | None = None
) -> geomap.Panel:
    """Cameras on a map, coloured by :data:`STATE_ENTRIES` value, from ``lat``/``lon`` labels.

    The instant query in table format turns every label into a string field; ``convertFieldType``
    makes ``lat``/``lon`` numbers for the markers layer in ``coords`` mode (Grafana 11.6).
    """
    marker_style = {
        "color": {"field": "Value", "fixed": "dark-green"},
        "opacity": 0.8,
        "size": {"fixed": 6, "min": 2, "max": 15},
        "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
        "symbolAlign": {"horizontal": "center", "vertical": "center"},
        "rotation": {"fixed": 0, "min": -360, "max": 360, "mode": "mod"},
    }
    layer = (
        cb.MapLayerOptions()
        .type("markers")
        .name(lang(("摄像机", "Cameras")))
        .config({"showLegend": True, "style": marker_style})
        .location(
            cb.FrameGeometrySource().mode(cm.FrameGeometrySourceMode.COORDS).latitude("lat").longitude("lon")
        )
        .tooltip(True)
    )
    p = (
        geomap.Panel()
        .title(lang(title))
        .datasource(DS)
        .span(w)
        .height(h)
        .targets([q(expr, table_fmt=True)])
        .with_transformation(
            dm.DataTransformerConfig(
                id_val="convertFieldType",
                options={
                    "conversions": [
                        {"targetField": "lat", "destinationType": "number"},
                        {"targetField": "lon", "destinationType": "number"},
                    ],
                    "fields": {},
                },
            )
        )
        .view(geomap.MapViewConfig().id("fit").lat(0).lon(0).zoom(11).all_layers(True))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_attribution(True))
        .basemap(cb.MapLayerOptions().type("default").name(lang(("底图", "Basemap"))).config({}))
        .layers([layer])
        .tooltip(geomap.TooltipOptions().mode(geomap_models.TooltipMode.DETAILS))
        .color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
        .thresholds(thresholds((None, "gray"), (0, "red"), (1, "orange"), (2, "green")))
        .mappings([value_map(lang, STATE_ENTRIES)])
    )
    if description:
        p = p.description(lang(description))
    return p


def camera_state_with_coords(extra: str = "") -> str:
    """Every active camera with its inventory labels (lat, lon, name, …) valued by state (-1..2)."""
    cams = info("camera", extra)
    return f"{cams}\n* on (device) group_left ()\n({camera_state(extra)})\nor on (device)\n{cams} * -1"

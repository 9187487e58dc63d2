# Interval arithmetic deliberately separate from simulator/history.py: the report is checked against the generator.
"""Online-rate figures for one month, computed from per-device aggregates that Prometheus computes.

Nothing here pulls raw samples for the whole fleet. Per device and local day we ask Prometheus for
the number of successful probes (``sum_over_time``) and of probes at all (``count_over_time``);
with the sample interval S:

    online_s   = successful samples × S
    offline_s  = (samples − successful samples) × S
    unknown_s  = active time − excluded time − samples × S      (monitoring had no data)
    rate       = online_s / (online_s + offline_s)
               = online / (calendar time of the active period − approved exclusions − unknown)

Approved exclusions are removed exactly: the samples inside each excluded window are counted by
one more query per window piece and subtracted. Outage intervals (count, longest, the outage
list) come from a finer query (one point per sample interval) that returns only failed samples,
and only for the devices that failed at all.

Range boundaries: every window ``[a, b)`` is asked as ``[b - a]`` evaluated at ``b - 1 ms``, which
gives the same samples under Prometheus 2's closed and Prometheus 3's left-open range selectors.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sharpeyes.cli import UserError
from sharpeyes.contract import (
    DEVICE_INFO,
    FIBER_LINK_RX_MIN_DBM,
    JOB_INVENTORY,
    OPTICAL_RX_POWER_DBM,
    PROBE_SUCCESS,
    VQD_IMAGE_INTACT,
)
from sharpeyes.inventory import Inventory

from .config import Config, Exclusion
from .prometheus import Prometheus, Series, device_matcher

EPS = 0.001  # evaluate windows [a, b) at b - 1 ms
REGEX_LIMIT = 400  # above this many devices, select the whole job and filter locally
Interval = tuple[float, float]


# --- the month ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    month: str
    tz: zoneinfo.ZoneInfo
    start: float
    end: float
    days: tuple[Interval, ...]

    @property
    def uniform(self) -> bool:
        return all(b - a == 86400 for a, b in self.days)

    def day_label(self, i: int) -> dt.date:
        return dt.datetime.fromtimestamp(self.days[i][0], self.tz).date()

    def local(self, ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, self.tz).replace(tzinfo=None)

    def previous(self) -> Period:
        first = dt.datetime.fromtimestamp(self.start, self.tz)
        prev = (first - dt.timedelta(days=1)).strftime("%Y-%m")
        return month_period(prev, self.tz)


def month_period(month: str, tz: zoneinfo.ZoneInfo) -> Period:
    try:
        first = dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise UserError(f"--month {month!r} is not YYYY-MM", status=2) from None
    days = []
    day = first
    while day.month == first.month:
        nxt = day + dt.timedelta(days=1)
        a = dt.datetime.combine(day, dt.time(), tz).timestamp()
        b = dt.datetime.combine(nxt, dt.time(), tz).timestamp()
        days.append((a, b))
        day = nxt
    return Period(month, tz, days[0][0], days[-1][1], tuple(days))


# --- small interval helpers -----------------------------------------------------------------------


def merge(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def subtract(base: list[Interval], minus: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in base:
        cur = s
        for ms, me in minus:
            if me <= cur or ms >= e:
                continue
            if ms > cur:
                out.append((cur, ms))
            cur = max(cur, me)
        if cur < e:
            out.append((cur, e))
    return out


def overlap(a: Interval, b: Interval) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


# --- results --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    period: Period
    interval: float
    devices: pd.DataFrame  # index device: labels, totals, rate, target, outages, active period
    daily: pd.DataFrame  # device × day: online_s offline_s unknown_s excluded_s active_s
    outages: pd.DataFrame  # one row per outage (offline segment)
    exclusions: list[Exclusion]
    exclusion_devices: dict[str, int]  # exclusion id -> devices it covered in the data
    links: pd.DataFrame
    previous: pd.DataFrame | None  # index device: online_s monitored_s of the previous month
    tickets: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    queries: int = 0


# --- the computation ------------------------------------------------------------------------------


class Calculator:
    def __init__(
        self,
        prom: Prometheus,
        cfg: Config,
        period: Period,
        inv: Inventory | None,
        exclusions: list[Exclusion],
    ) -> None:
        self.prom = prom
        self.cfg = cfg
        self.period = period
        self.inv = inv
        self.exclusions = exclusions
        self.sel = f'{PROBE_SUCCESS}{{job="{cfg.job}"}}'
        self.notes: list[str] = []

    def selector(self, devices: list[str] | None) -> str:
        if devices is None or len(devices) > REGEX_LIMIT:
            return self.sel
        return f'{PROBE_SUCCESS}{{job="{self.cfg.job}",device=~"{device_matcher(devices)}"}}'

    # --- per device-day counts
    def daily_counts(self, period: Period) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(devices, successful samples [dev, day], samples [dev, day])."""
        exprs = [
            f"sum by (device) (sum_over_time({self.sel}[1d]))",
            f"sum by (device) (count_over_time({self.sel}[1d]))",
        ]
        n = len(period.days)
        if period.uniform:
            first, last = period.days[0][1] - EPS, period.days[-1][1] - EPS
            results = self.prom.map(lambda e: self.prom.query_range(e, first, last, 86400), exprs)
            index = [lambda t: round((t + EPS - period.start) / 86400) - 1] * 2
        else:  # a DST month: one instant query per day
            results = []
            for e in exprs:
                per_day: dict[str, Series] = {}
                for i, (a, b) in enumerate(period.days):
                    q = e.replace("[1d]", f"[{int(b - a)}s]")
                    for s in self.prom.query(q, b - EPS):
                        per_day.setdefault(s.labels.get("device", ""), Series(s.labels, []))
                        per_day[s.labels.get("device", "")].points.append((float(i), s.points[0][1]))
                results.append(list(per_day.values()))
            index = [lambda t: int(t)] * 2
        devices = sorted({s.labels.get("device", "") for r in results for s in r} - {""})
        pos = {d: i for i, d in enumerate(devices)}
        mats = []
        for res, idx in zip(results, index, strict=True):
            m = np.zeros((len(devices), n))
            for s in res:
                row = pos.get(s.labels.get("device", ""))
                if row is None:
                    continue
                for t, v in s.points:
                    j = idx(t)
                    if 0 <= j < n:
                        m[row, j] = v
            mats.append(m)
        return devices, mats[0], mats[1]

    def detect_interval(self, present: np.ndarray) -> float:
        if self.cfg.scrape_interval:
            return self.cfg.scrape_interval
        full = [i for i, (a, b) in enumerate(self.period.days) if b - a == 86400]
        most = present[:, full].max() if full and present.size else 0
        if most <= 0:
            raise UserError(
                f"no {PROBE_SUCCESS} samples of job {self.cfg.job!r} in {self.period.month}: "
                f"is this the right Prometheus, and has the month been backfilled?"
            )
        return float(max(1, round(86400 / most)))

    # --- active periods: series that start or end inside the month
    def active_periods(
        self, devices: list[str], present: np.ndarray, S: float
    ) -> tuple[np.ndarray, np.ndarray]:
        p = self.period
        n_dev, n_days = present.shape
        start = np.full(n_dev, p.start)
        end = np.full(n_dev, p.end)
        fleet = present.max(axis=0) if n_dev else np.zeros(n_days)
        fleet_days = np.nonzero(fleet > 0)[0]
        if not len(fleet_days):
            return start, end
        f0, f1 = fleet_days[0], fleet_days[-1]
        heads: dict[int, list[int]] = defaultdict(list)
        tails: dict[int, list[int]] = defaultdict(list)
        for i in range(n_dev):
            nz = np.nonzero(present[i] > 0)[0]
            fd, ld = nz[0], nz[-1]
            if fd > f0 or present[i, fd] < fleet[fd] - 1:
                heads[fd].append(i)
            if ld < f1 or present[i, ld] < fleet[ld] - 1:
                tails[ld].append(i)
        for day in sorted(set(heads) | set(tails)):
            rows = sorted(set(heads.get(day, [])) | set(tails.get(day, [])))
            slots = self.slots(day, [devices[i] for i in rows], S)
            fleet_slots = self.slots(day, None, S) if day in (f0, f1) else {}
            fleet_times = fleet_slots.get("", np.array([]))
            for i in rows:
                ts = slots.get(devices[i])
                if ts is None or not len(ts):
                    continue
                if i in heads.get(day, []) and (
                    day > f0 or (len(fleet_times) and fleet_times[0] < ts[0] - S / 2)
                ):
                    start[i] = ts[0] - S / 2
                if i in tails.get(day, []) and (
                    day < f1 or (len(fleet_times) and fleet_times[-1] > ts[-1] + S / 2)
                ):
                    end[i] = ts[-1] + S / 2
        return start, end

    def slots(self, day: int, devices: list[str] | None, S: float) -> dict[str, np.ndarray]:
        """Times (grid point centres) of the sample slots that hold data on one day."""
        a, b = self.period.days[day]
        if devices is None:
            expr = f"count(count_over_time({self.sel}[{_dur(S)}]))"
        else:
            expr = f"count by (device) (count_over_time({self.selector(devices)}[{_dur(S)}]))"
        out = {}
        for s in self.prom.query_range(expr, a + S / 2, b - S / 2, S):
            out[s.labels.get("device", "")] = np.array([t for t, _ in s.points])
        return out

    # --- exclusions
    def exclusion_windows(self, labels: pd.DataFrame) -> tuple[dict[str, list[Interval]], dict[str, int]]:
        p = self.period
        per_device: dict[str, list[Interval]] = defaultdict(list)
        counts: dict[str, int] = {}
        for ex in self.exclusions:
            iv = (max(ex.start, p.start), min(ex.end, p.end))
            if iv[1] <= iv[0]:
                continue
            mask = pd.Series(ex.everything, index=labels.index)
            mask |= labels.index.isin(ex.devices)
            mask |= labels["village"].isin(ex.villages) | labels["township"].isin(ex.townships)
            hit = labels.index[mask]
            counts[ex.id] = len(hit)
            for d in hit:
                per_device[d].append(iv)
        return {d: merge(v) for d, v in per_device.items()}, counts

    def pieces(self, windows: dict[str, list[Interval]], period: Period) -> list[tuple[Interval, list[str]]]:
        """Elementary windows (split at day boundaries) and the devices each one excludes."""
        cuts = {a for a, _ in period.days} | {period.end}
        for ivs in windows.values():
            for a, b in ivs:
                cuts |= {a, b}
        edges = sorted(c for c in cuts if period.start <= c <= period.end)
        out = []
        for a, b in itertools.pairwise(edges):
            devs = [d for d, ivs in windows.items() if any(s <= a and b <= e for s, e in ivs)]
            if devs:
                out.append(((a, b), devs))
        return out

    def piece_counts(
        self, pieces: list[tuple[Interval, list[str]]]
    ) -> list[tuple[dict[str, float], dict[str, float]]]:
        def one(piece: tuple[Interval, list[str]]) -> tuple[dict[str, float], dict[str, float]]:
            (a, b), devs = piece
            sel = self.selector(devs)
            res = []
            for fn in ("sum_over_time", "count_over_time"):
                q = f"sum by (device) ({fn}({sel}[{_dur(b - a)}]))"
                res.append({s.labels.get("device", ""): s.points[0][1] for s in self.prom.query(q, b - EPS)})
            return res[0], res[1]

        return self.prom.map(one, pieces)

    # --- 完好率: online and picture intact
    def intact(self, per: pd.DataFrame) -> pd.DataFrame:
        """Image-fault time from the snapshot module's stills, and the intact rate next to the online rate.

        Each judged still stands for one snapshot interval (``image_interval``): image-fault time =
        faulty stills × interval. Time without a judged still (no snapshot, fetch failed, camera
        offline) is never charged as an image fault: 完好 time = online time − image-fault time, over
        the same denominator as the online rate. Stills inside approved exclusion windows are not
        removed (exclusions apply to the online figures).
        """
        p = self.period
        sel = f'{VQD_IMAGE_INTACT}{{job="{self.cfg.image_job}"}}'
        span = _dur(p.end - p.start)
        counts = []
        for fn in ("count_over_time", "sum_over_time"):
            q = f"sum by (device) ({fn}({sel}[{span}]))"
            counts.append({s.labels.get("device", ""): s.points[0][1] for s in self.prom.query(q, p.end - EPS)})
        judged = pd.Series(counts[0], dtype=float).reindex(per.index).fillna(0.0)
        intact = pd.Series(counts[1], dtype=float).reindex(per.index).fillna(0.0)
        step = self.cfg.image_interval
        per["image_judged_s"] = judged * step
        per["image_fault_s"] = np.minimum((judged - intact) * step, per["online_s"])
        per["intact_s"] = per["online_s"] - per["image_fault_s"]
        per["intact_rate"] = (per["intact_s"] / per["monitored_s"]).where(per["monitored_s"] > 0)
        per["image_unknown_s"] = np.maximum(per["online_s"] - per["image_judged_s"], 0.0)
        per["meets_intact_target"] = per["intact_rate"] >= per["target"] - 1e-12
        if not judged.any() and (per["kind"] == "camera").any():
            self.notes.append(f"no sharpeyes_vqd_image_intact samples of job {self.cfg.image_job!r}: "
                              "完好率 equals 在线率 (no picture was judged)")
        return per

    # --- outages
    def down_slots(self, devices: list[str], S: float) -> dict[str, np.ndarray]:
        if not devices:
            return {}
        out: dict[str, np.ndarray] = {}
        groups = [devices[i : i + REGEX_LIMIT] for i in range(0, len(devices), REGEX_LIMIT)]
        for group in groups:
            expr = f"min by (device) (min_over_time({self.selector(group)}[{_dur(S)}])) == 0"
            for s in self.prom.query_range(expr, self.period.start + S / 2, self.period.end - S / 2, S):
                d = s.labels.get("device", "")
                if d in out:
                    out[d] = np.concatenate([out[d], [t for t, _ in s.points]])
                else:
                    out[d] = np.array([t for t, _ in s.points])
        return {d: np.sort(v) for d, v in out.items()}

    # --- labels
    def labels(self, devices: list[str]) -> pd.DataFrame:
        cols = [
            "kind",
            "role",
            "name",
            "township",
            "village",
            "site",
            "contractor",
            "funding",
            "area",
            "uplink_switch",
            "fiber_link",
        ]
        info: dict[str, dict[str, str]] = {}
        span = _dur(self.period.end - self.period.start)
        q = f'last_over_time({DEVICE_INFO}{{job="{JOB_INVENTORY}"}}[{span}])'
        for s in self.prom.query(q, self.period.end - EPS):
            info[s.labels.get("device", "")] = s.labels
        rows = []
        inv = self.inv
        for d in devices:
            row = {c: info.get(d, {}).get(c, "") for c in cols}
            row["tags"] = ""
            dev = inv.devices.get(d) if inv is not None else None
            if dev is not None and inv is not None:
                row.update(
                    kind=dev.kind,
                    role=dev.role,
                    name=dev.name,
                    township=dev.township,
                    village=dev.village,
                    site=dev.site,
                    contractor=dev.contractor,
                    funding=dev.funding,
                    tags=",".join(dev.tags),
                    uplink_switch=dev.uplink.switch if dev.uplink else "",
                    fiber_link=inv.topology.nearest_link(dev),
                )
                tw = inv.townships.get(dev.township)
                row["area"] = tw.area if tw else row["area"]
            if not row["kind"]:
                row["kind"] = "camera" if d.startswith("cam") else "unknown"
            rows.append({"device": d, **row})
        df = (
            pd.DataFrame(rows).set_index("device")
            if rows
            else pd.DataFrame(columns=["device", *cols, "tags"])
        )
        if inv is not None and len(df):
            df["township_name"] = df["township"].map(
                lambda t: inv.townships[t].name if t in inv.townships else t
            )
            df["village_name"] = df["village"].map(lambda v: inv.villages[v].name if v in inv.villages else v)
            df["contractor_name"] = df["contractor"].map(
                lambda c: inv.contractors[c].name if c in inv.contractors else c
            )
        else:
            df["township_name"], df["village_name"], df["contractor_name"] = (
                df["township"],
                df["village"],
                df["contractor"],
            )
        df["target"] = [self.cfg.target_for(tuple(t.split(",")) if t else ()) for t in df["tags"]]
        df["key_area"] = [
            bool(set(t.split(",")) & set(self.cfg.tag_targets)) if t else False for t in df["tags"]
        ]
        return df

    # --- everything
    def run(self) -> Result:
        p = self.period
        devices, online_n, present_n = self.daily_counts(p)
        if not devices:
            raise UserError(
                f"no {PROBE_SUCCESS} samples of job {self.cfg.job!r} in {p.month}: "
                f"is this the right Prometheus, and has the month been backfilled?"
            )
        S = self.detect_interval(present_n)
        labels = self.labels(devices)
        act_from, act_to = self.active_periods(devices, present_n, S)
        windows, excl_counts = self.exclusion_windows(labels)
        pieces = self.pieces(windows, p)
        pos = {d: i for i, d in enumerate(devices)}
        n_dev = present_n.shape[0]
        ex_on = np.zeros_like(online_n)
        ex_pr = np.zeros_like(present_n)
        ex_s = np.zeros_like(present_n)
        day_of = {a: i for i, (a, _) in enumerate(p.days)}
        day_starts = np.array([a for a, _ in p.days])
        for ((a, b), devs), (on, pr) in zip(pieces, self.piece_counts(pieces), strict=True):
            j = day_of.get(a, int(np.searchsorted(day_starts, a, side="right") - 1))
            for d in devs:
                i = pos.get(d)
                if i is None:
                    continue
                ex_on[i, j] += on.get(d, 0.0)
                ex_pr[i, j] += pr.get(d, 0.0)
                ex_s[i, j] += overlap((a, b), (act_from[i], act_to[i]))
        active_s = np.array(
            [[overlap(day, (act_from[i], act_to[i])) for day in p.days] for i in range(n_dev)]
        )
        on = np.clip(online_n - ex_on, 0, None)
        pr = np.clip(present_n - ex_pr, 0, None)
        online_s = on * S
        offline_s = (pr - on) * S
        unknown_s = np.clip(active_s - ex_s - pr * S, 0, None)
        daily = _daily_frame(devices, p, online_s, offline_s, unknown_s, ex_s, active_s)

        failing = [d for d in devices if (present_n[pos[d]] - online_n[pos[d]]).sum() > 0]
        outages = self.outage_segments(failing, S, windows, act_from, act_to, pos, labels)
        per = pd.DataFrame(
            {
                "online_s": online_s.sum(axis=1),
                "offline_s": offline_s.sum(axis=1),
                "unknown_s": unknown_s.sum(axis=1),
                "excluded_s": ex_s.sum(axis=1),
                "active_s": active_s.sum(axis=1),
                "active_from": [p.local(t) for t in act_from],
                "active_to": [p.local(t) for t in act_to],
            },
            index=pd.Index(devices, name="device"),
        )
        per["monitored_s"] = per["online_s"] + per["offline_s"]
        per["rate"] = (per["online_s"] / per["monitored_s"]).where(per["monitored_s"] > 0)
        per["prorated"] = per["active_s"] < (p.end - p.start) - S / 2
        if len(outages):
            g = outages.groupby("device")["duration_s"]
            per["outages"] = g.count().reindex(per.index).fillna(0).astype(int)
            per["longest_outage_s"] = g.max().reindex(per.index).fillna(0)
        else:
            per["outages"] = 0
            per["longest_outage_s"] = 0.0
        per = labels.join(per)
        per["meets_target"] = per["rate"] >= per["target"] - 1e-12
        per = self.intact(per)
        result = Result(
            p,
            S,
            per,
            daily,
            outages,
            self.exclusions,
            excl_counts,
            self.fiber_links(per),
            self.previous_month(),
            notes=self.notes,
        )
        return result

    def outage_segments(
        self,
        failing: list[str],
        S: float,
        windows: dict[str, list[Interval]],
        act_from: np.ndarray,
        act_to: np.ndarray,
        pos: dict[str, int],
        labels: pd.DataFrame,
    ) -> pd.DataFrame:
        rows = []
        for d, ts in self.down_slots(failing, S).items():
            if not len(ts):
                continue
            i = pos.get(d)
            breaks = np.nonzero(np.diff(ts) > 1.5 * S)[0]
            firsts = np.concatenate([[ts[0]], ts[breaks + 1]])
            lasts = np.concatenate([ts[breaks], [ts[-1]]])
            runs = [(float(a - S / 2), float(b + S / 2)) for a, b in zip(firsts, lasts, strict=True)]
            if i is not None:
                runs = [(max(a, act_from[i]), min(b, act_to[i])) for a, b in runs]
            for a, b in subtract(merge(runs), windows.get(d, [])):
                rows.append(
                    {
                        "device": d,
                        "start": self.period.local(a),
                        "end": self.period.local(b),
                        "duration_s": b - a,
                        "ongoing": b >= self.period.end - S / 2,
                        "start_ts": a,
                        "end_ts": b,
                    }
                )
        cols = ["device", "start", "end", "duration_s", "ongoing", "start_ts", "end_ts"]
        df = pd.DataFrame(rows, columns=cols)
        if len(df):
            df = df.join(
                labels[["kind", "name", "township_name", "village_name", "contractor_name"]], on="device"
            )
            df = df.sort_values(["start_ts", "device"]).reset_index(drop=True)
        return df

    # --- fiber links from optical power
    def fiber_links(self, per: pd.DataFrame) -> pd.DataFrame:
        p = self.period
        metric = OPTICAL_RX_POWER_DBM
        exprs = [
            f"min by (device, port, port_link) (min_over_time({metric}[1d]))",
            f"avg by (device, port, port_link) (avg_over_time({metric}[1d]))",
        ]
        if not p.uniform:
            return pd.DataFrame()
        first, last = p.days[0][1] - EPS, p.days[-1][1] - EPS
        mins, avgs = self.prom.map(lambda e: self.prom.query_range(e, first, last, 86400), exprs)
        n = len(p.days)
        by_link: dict[str, dict[str, Any]] = {}
        for kind, res in (("min", mins), ("avg", avgs)):
            for s in res:
                link = s.labels.get("port_link", "")
                if not link:
                    continue
                entry = by_link.setdefault(link, {"min": np.full(n, np.nan), "avg": [], "ends": set()})
                entry["ends"].add(f"{s.labels.get('device', '')}:{s.labels.get('port', '')}")
                for t, v in s.points:
                    j = round((t + EPS - p.start) / 86400) - 1
                    if kind == "min" and 0 <= j < n:
                        entry["min"][j] = np.fmin(entry["min"][j], v)
                    elif kind == "avg":
                        entry["avg"].append(v)
        thresholds = self.link_thresholds()
        inv = self.inv
        rows = []
        for link, e in sorted(by_link.items()):
            daily = e["min"]
            ok = ~np.isnan(daily)
            lit = ok & (daily > -35)
            slope = np.nan
            if lit.sum() >= 3:
                x = np.nonzero(lit)[0]
                slope = float(np.polyfit(x, daily[lit], 1)[0])
            th = thresholds.get(link, -20.0)
            fl = inv.links.get(link) if inv is not None else None
            child = inv.topology.link_child.get(link, "") if inv is not None else ""
            cams = 0
            if inv is not None:
                cams = sum(
                    1
                    for d in inv.topology.downstream(link)
                    if d in per.index and per.at[d, "kind"] == "camera"
                )
            cut_s = float(per.at[child, "offline_s"]) if child in per.index else np.nan
            los_days = int((ok & (daily <= -35)).sum())
            low_days = int((ok & (daily < th)).sum())
            status = (
                "中断" if los_days else ("低于门限" if low_days else ("衰减" if slope < -0.3 else "正常"))
            )
            rows.append(
                {
                    "fiber_link": link,
                    "township": fl.township if fl else "",
                    "ends": ", ".join(sorted(e["ends"])),
                    "build": fl.build if fl else "",
                    "length_m": fl.length_m if fl else np.nan,
                    "rx_min_dbm": th,
                    "rx_min_month_dbm": float(np.nanmin(daily)) if ok.any() else np.nan,
                    "rx_avg_dbm": float(np.mean(e["avg"])) if e["avg"] else np.nan,
                    "rx_first_day_dbm": float(daily[ok][0]) if ok.any() else np.nan,
                    "rx_last_day_dbm": float(daily[ok][-1]) if ok.any() else np.nan,
                    "slope_db_per_day": slope,
                    "days_below_threshold": low_days,
                    "days_los": los_days,
                    "downstream_offline_s": cut_s,
                    "downstream_cameras": cams,
                    "status": status,
                }
            )
        return pd.DataFrame(rows)

    def link_thresholds(self) -> dict[str, float]:
        if self.inv is not None:
            return {lid: fl.rx_min_dbm for lid, fl in self.inv.links.items()}
        span = _dur(self.period.end - self.period.start)
        res = self.prom.query(
            f"last_over_time({FIBER_LINK_RX_MIN_DBM}[{span}])", self.period.end - EPS
        )
        return {s.labels.get("fiber_link", ""): s.points[0][1] for s in res}

    # --- month over month
    def previous_month(self) -> pd.DataFrame | None:
        prev = self.period.previous()
        span = _dur(prev.end - prev.start)
        exprs = [
            f"sum by (device) (sum_over_time({self.sel}[{span}]))",
            f"sum by (device) (count_over_time({self.sel}[{span}]))",
        ]
        on, pr = self.prom.map(
            lambda e: {
                s.labels.get("device", ""): s.points[0][1] for s in self.prom.query(e, prev.end - EPS)
            },
            exprs,
        )
        if not pr:
            self.notes.append(f"{prev.month} 无监测数据，环比不可计算")
            return None
        df = pd.DataFrame(
            {"online_n": pd.Series(on, dtype=float), "present_n": pd.Series(pr, dtype=float)}
        ).fillna(0)
        # subtract the previous month's exclusions, if the file has any
        calc = Calculator(self.prom, self.cfg, prev, self.inv, self.exclusions)
        labels = pd.DataFrame({"village": "", "township": ""}, index=df.index)
        if self.inv is not None:
            labels["village"] = [
                self.inv.devices[d].village if d in self.inv.devices else "" for d in df.index
            ]
            labels["township"] = [
                self.inv.devices[d].township if d in self.inv.devices else "" for d in df.index
            ]
        windows, _ = calc.exclusion_windows(labels)
        pieces = calc.pieces(windows, prev)
        for (_, devs), (x_on, x_pr) in zip(pieces, calc.piece_counts(pieces), strict=True):
            for d in devs:
                if d in df.index:
                    df.at[d, "online_n"] -= x_on.get(d, 0.0)
                    df.at[d, "present_n"] -= x_pr.get(d, 0.0)
        return df.clip(lower=0)


def _dur(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _daily_frame(
    devices: list[str],
    p: Period,
    online_s: np.ndarray,
    offline_s: np.ndarray,
    unknown_s: np.ndarray,
    ex_s: np.ndarray,
    active_s: np.ndarray,
) -> pd.DataFrame:
    n_days = online_s.shape[1]
    idx = pd.MultiIndex.from_product(
        [devices, [p.day_label(j) for j in range(n_days)]], names=["device", "day"]
    )
    return pd.DataFrame(
        {
            "online_s": online_s.ravel(),
            "offline_s": offline_s.ravel(),
            "unknown_s": unknown_s.ravel(),
            "excluded_s": ex_s.ravel(),
            "active_s": active_s.ravel(),
        },
        index=idx,
    )


def compute(
    prom: Prometheus, cfg: Config, period: Period, inv: Inventory | None, exclusions: list[Exclusion]
) -> Result:
    calc = Calculator(prom, cfg, period, inv, exclusions)
    result = calc.run()
    result.queries = prom.queries
    return result


# --- aggregation for the sheets -------------------------------------------------------------------


def cameras(result: Result) -> pd.DataFrame:
    df = result.devices[result.devices["kind"] == "camera"].copy()
    prev = result.previous
    if prev is not None:
        rate = (prev["online_n"] / prev["present_n"]).where(prev["present_n"] > 0)
        df["prev_rate"] = rate.reindex(df.index)
    else:
        df["prev_rate"] = np.nan
    df["change"] = df["rate"] - df["prev_rate"]
    return df


def group(cams: pd.DataFrame, by: str | list[str], prev: pd.DataFrame | None) -> pd.DataFrame:
    g = cams.groupby(by, dropna=False)
    out = g.agg(
        cameras=("rate", "size"),
        key_area=("key_area", "sum"),
        online_s=("online_s", "sum"),
        offline_s=("offline_s", "sum"),
        unknown_s=("unknown_s", "sum"),
        excluded_s=("excluded_s", "sum"),
        monitored_s=("monitored_s", "sum"),
        active_s=("active_s", "sum"),
        outages=("outages", "sum"),
        meeting=("meets_target", "sum"),
        intact_s=("intact_s", "sum"),
        image_fault_s=("image_fault_s", "sum"),
        image_unknown_s=("image_unknown_s", "sum"),
        intact_meeting=("meets_intact_target", "sum"),
    )
    out["rate"] = (out["online_s"] / out["monitored_s"]).where(out["monitored_s"] > 0)
    out["intact_rate"] = (out["intact_s"] / out["monitored_s"]).where(out["monitored_s"] > 0)
    out["image_fault_h"] = out["image_fault_s"] / 3600.0
    out["image_unknown_h"] = out["image_unknown_s"] / 3600.0
    out["compliance"] = out["meeting"] / out["cameras"]
    out["coverage"] = (out["monitored_s"] / (out["active_s"] - out["excluded_s"])).where(
        out["active_s"] > out["excluded_s"]
    )
    if prev is not None:
        joined = cams[[by] if isinstance(by, str) else by].join(prev, how="left")
        pg = joined.groupby(by, dropna=False)[["online_n", "present_n"]].sum()
        out["prev_rate"] = (pg["online_n"] / pg["present_n"]).where(pg["present_n"] > 0)
    else:
        out["prev_rate"] = np.nan
    out["change"] = out["rate"] - out["prev_rate"]
    return out


def district_daily(result: Result, kind: str = "camera") -> pd.DataFrame:
    devs = result.devices.index[result.devices["kind"] == kind]
    d = result.daily.loc[result.daily.index.get_level_values("device").isin(devs)]
    g = d.groupby(level="day").sum()
    g["rate"] = (g["online_s"] / (g["online_s"] + g["offline_s"])).where(g["online_s"] + g["offline_s"] > 0)
    return g

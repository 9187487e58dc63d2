"""Deterministic generator of the sample district (Fengquan-like) and of large synthetic fleets.

The sample district reproduces the figures of the news report (shared/seed-article.txt):
1640 district-funded cameras (of which the Sharp Eyes build: 291 fixed cameras, 60 PTZ domes,
5 face-recognition systems, 1 high-altitude lookout, with 291 new fiber runs), 600 city-funded
phase-3 cameras, 5 township platforms and 46 villages averaging 35.6 district-funded cameras.
Every device gets its own address in 127.0.0.0/8 so the simulator can serve it on loopback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .loader import expand_ports
from .model import (
    BBox,
    Contractor,
    Device,
    District,
    FiberLink,
    Inventory,
    Port,
    PortRef,
    Recording,
    Site,
    Township,
    Village,
)

SEED = 20190820  # the day of the district's video-surveillance open day in the report

CONTRACTORS = [
    Contractor(
        "zhongan", "河南中安安防工程有限公司", "Henan Zhongan Security Engineering Co., Ltd.", "0373-5000101"
    ),
    Contractor(
        "tianwang", "新乡市天网电子技术有限公司", "Xinxiang Tianwang Electronics Co., Ltd.", "0373-5000202"
    ),
    Contractor(
        "huaxin",
        "河南华信通信工程有限公司",
        "Henan Huaxin Communication Engineering Co., Ltd.",
        "0373-5000303",
    ),
]

# id, name, name_en, area, contractor, centre (lat, lon), villages [(id, name)]
TOWNSHIPS = [
    (
        "baodong",
        "宝东街道",
        "Baodong Subdistrict",
        "urban",
        "zhongan",
        (35.395, 113.925),
        [
            ("beizhan", "北站社区"),
            ("xinhua", "新华社区"),
            ("dongtonggu", "东同古村"),
            ("xitonggu", "西同古村"),
            ("maozhuang", "毛庄村"),
            ("guocun", "郭村"),
            ("xiaodian", "小店村"),
            ("baoshan", "宝山社区"),
        ],
    ),
    (
        "baoxi",
        "宝西街道",
        "Baoxi Subdistrict",
        "urban",
        "zhongan",
        (35.392, 113.885),
        [
            ("fengquan", "凤泉社区"),
            ("wenhua", "文化社区"),
            ("liuzhuang", "刘庄村"),
            ("wangcun", "王村"),
            ("licun", "李村"),
            ("zhaocun", "赵村"),
            ("xifeng", "西凤村"),
            ("dahe", "大河社区"),
        ],
    ),
    (
        "genghuang",
        "耿黄镇",
        "Genghuang Town",
        "rural",
        "tianwang",
        (35.430, 113.950),
        [
            ("gengzhuang", "耿庄村"),
            ("shangjie", "尚介村"),
            ("genghuang", "耿黄村"),
            ("nanjie", "南街村"),
            ("beijie", "北街村"),
            ("dongma", "东马村"),
            ("xima", "西马村"),
            ("liushu", "柳树村"),
            ("yangtun", "杨屯村"),
            ("luzhuang", "卢庄村"),
            ("gujun", "固军村"),
        ],
    ),
    (
        "dakuai",
        "大块镇",
        "Dakuai Town",
        "rural",
        "tianwang",
        (35.360, 113.975),
        [
            ("dakuai", "大块村"),
            ("xiaokuai", "小块村"),
            ("donglubao", "东鲁堡村"),
            ("xilubao", "西鲁堡村"),
            ("sunzhuang", "孙庄村"),
            ("qianjin", "前进村"),
            ("fengshou", "丰收村"),
            ("xinzhuang", "新庄村"),
            ("mazhuang", "马庄村"),
            ("tianzhuang", "田庄村"),
            ("shizhuang", "石庄村"),
        ],
    ),
    (
        "luwangfen",
        "潞王坟乡",
        "Luwangfen Township",
        "rural",
        "huaxin",
        (35.460, 113.860),
        [
            ("luwangfen", "潞王坟村"),
            ("huangtun", "黄屯村"),
            ("chenbao", "陈堡村"),
            ("kuaicunying", "块村营村"),
            ("dachi", "大池村"),
            ("xiaochi", "小池村"),
            ("shanzhuang", "山庄村"),
            ("nancun", "南村"),
        ],
    ),
]
BBOX = BBox(south=35.30, north=35.52, west=113.78, east=114.04)
DISTRICT_CENTRE = (35.382, 113.905)

SHARP_EYES_PER_VILLAGE = [6] * 8 + [7] * 10 + [8] * 13 + [9] * 15  # 357 over 46 villages, by village size
SHARP_EYES_SPECIAL = ["ptz_dome"] * 60 + ["face_recognition"] * 5 + ["high_altitude_lookout"]
DISTRICT_FUNDED = 1640
CITY_PHASE3 = {"baodong": 250, "baoxi": 250, "genghuang": 40, "dakuai": 30, "luwangfen": 30}

SPOTS = [
    "村委会门口",
    "东路口",
    "西路口",
    "南街",
    "北街",
    "学校门口",
    "卫生室",
    "文化广场",
    "桥头",
    "十字路口",
    "集市",
    "加油站",
    "幼儿园",
    "大桥",
    "村东头",
    "村西头",
    "水塔",
    "养殖场",
    "坑塘",
    "麦场",
]
ROLE_ZH = {
    "bullet": "枪机",
    "ptz_dome": "球机",
    "face_recognition": "人脸识别",
    "high_altitude_lookout": "高空瞭望",
}

# vendor, role → (model, expected firmware, main-stream kbit/s)
CAMERA_MODELS = {
    ("hikvision", "bullet"): ("DS-2CD3T47EWD-L", "V5.7.3 build 220112", 4096),
    ("hikvision", "ptz_dome"): ("DS-2DE7430IW-AE", "V5.7.1 build 211116", 6144),
    ("hikvision", "face_recognition"): ("iDS-2CD7A46G0-IZHS", "V5.6.5 build 210318", 8192),
    ("hikvision", "high_altitude_lookout"): ("DS-2DF8C842IXS-AEL", "V5.7.10 build 221028", 8192),
    ("dahua", "bullet"): ("DH-IPC-HFW4443M-I2", "2.800.0000000.19.R", 4096),
    ("dahua", "ptz_dome"): ("DH-SD6C3432XB-HNR", "2.840.0000000.18.R", 6144),
    ("uniview", "bullet"): ("IPC2124LB-SF40KM-G", "GIPC-B6202.5.38.221018", 4096),
    ("uniview", "ptz_dome"): ("IPC6322SR-X22P-D", "DIPC-B1216.3.11.210519", 6144),
}
OUI = {
    "hikvision": "44:19:b6",
    "dahua": "3c:ef:8c",
    "uniview": "24:28:fd",
    "huawei": "28:6e:d4",
    "h3c": "3c:8c:40",
}
SWITCH_MODELS = {
    # vendor, role → model, firmware, port specs, uplink port
    ("huawei", "pole"): (
        "S5720-12TP-LI-AC",
        "V200R011C10SPC500",
        ["GigabitEthernet0/0/1-8", "GigabitEthernet0/0/9-12:fiber"],
        "GigabitEthernet0/0/9",
    ),
    ("h3c", "pole"): (
        "S5130S-10P-EI",
        "7.1.070 Release 6318P01",
        ["GigabitEthernet1/0/1-8", "GigabitEthernet1/0/9-10:fiber"],
        "GigabitEthernet1/0/9",
    ),
    ("huawei", "access"): (
        "S5720-28X-SI-AC",
        "V200R011C10SPC500",
        ["GigabitEthernet0/0/1-24", "XGigabitEthernet0/0/1-4:fiber"],
        "XGigabitEthernet0/0/1",
    ),
    ("h3c", "access"): (
        "S5130S-28S-EI",
        "7.1.070 Release 6318P01",
        ["GigabitEthernet1/0/1-24", "Ten-GigabitEthernet1/0/25-28:fiber"],
        "Ten-GigabitEthernet1/0/25",
    ),
    ("huawei", "aggregation"): (
        "S5731-S48S4X",
        "V200R019C10SPC500",
        ["GigabitEthernet0/0/1-48:fiber", "XGigabitEthernet0/0/1-4:fiber", "GigabitEthernet1/0/1-4"],
        "XGigabitEthernet0/0/1",
    ),
    ("h3c", "aggregation"): (
        "S5560X-54S-EI",
        "7.1.070 Release 1311P01",
        ["GigabitEthernet1/0/1-48:fiber", "Ten-GigabitEthernet1/0/49-54:fiber", "GigabitEthernet2/0/1-4"],
        "Ten-GigabitEthernet1/0/49",
    ),
    ("huawei", "core"): (
        "S7706",
        "V200R019C10SPC800",
        ["XGigabitEthernet1/0/1-24:fiber", "GigabitEthernet2/0/1-24"],
        "",
    ),
}
SWITCH_VENDOR = {
    "baodong": "huawei",
    "baoxi": "huawei",
    "genghuang": "h3c",
    "dakuai": "huawei",
    "luwangfen": "h3c",
}
ACCESS_CAPACITY = 20  # cameras per 24-port access switch, leaving spares


@dataclass
class FleetSpec:
    district_id: str = "fengquan"
    district_name: str = "凤泉区"
    district_name_en: str = "Fengquan District, Xinxiang"
    synthetic_townships: int = 0  # > 0: a prefecture-scale fleet with generated names
    villages_per_township: int = 10
    cameras_per_village: int = 45


class Addresses:
    """Sequential 127.x.y.z addresses per pool, skipping .0 and .255."""

    def __init__(self, base: str) -> None:
        self._next = int(ipaddress.IPv4Address(base))

    def take(self) -> str:
        while self._next & 0xFF in (0, 255):
            self._next += 1
        addr = ipaddress.IPv4Address(self._next)
        self._next += 1
        if not str(addr).startswith("127."):
            raise ValueError("address pool left 127.0.0.0/8: fleet too large for loopback")
        return str(addr)


class Builder:
    def __init__(self, spec: FleetSpec) -> None:
        self.rng = random.Random(SEED)
        self.spec = spec
        self.inv = Inventory(
            District(spec.district_id, spec.district_name, spec.district_name_en, "Asia/Shanghai", BBOX)
        )
        self.ip_switch = Addresses("127.16.0.1")
        self.ip_platform = Addresses("127.18.0.1")
        self.ip_camera = Addresses("127.20.0.1")
        self.serial_no = 0
        self.link_no = 0
        self._specials: dict[str, int] = {}
        self._macs: set[str] = set()

    # --- helpers --------------------------------------------------------------------------------
    def mac(self, vendor: str, key: str) -> str:
        # 24 hashed bits collide (birthday) in a 100k fleet: rehash until unused
        salt = ""
        while True:
            h = hashlib.sha1((key + salt).encode()).digest()
            mac = f"{OUI[vendor]}:{h[0]:02x}:{h[1]:02x}:{h[2]:02x}"
            if mac not in self._macs:
                self._macs.add(mac)
                return mac
            salt += "#"

    def serial(self, vendor: str, model: str) -> str:
        self.serial_no += 1
        n = self.serial_no
        if vendor == "hikvision":
            return f"{model}{20190000 + n % 9999:08d}AACH{n:09d}"
        if vendor == "dahua":
            return f"6J0{n:05X}PAZ{n % 97:02d}{n:04d}"
        if vendor == "uniview":
            return f"210235C{n:07d}UV"
        return f"{vendor[:2].upper()}{n:012d}"

    def site(self, sid: str, name: str, lat: float, lon: float, township: str, village: str) -> Site:
        lat = min(max(lat, BBOX.south + 0.001), BBOX.north - 0.001)
        lon = min(max(lon, BBOX.west + 0.001), BBOX.east - 0.001)
        site = Site(sid, name, round(lat, 6), round(lon, 6), township, village)
        self.inv.sites[sid] = site
        return site

    def switch(
        self, sid: str, name: str, vendor: str, kind: str, role: str, site: Site, uplink: PortRef | None
    ) -> Device:
        model, firmware, specs, _ = SWITCH_MODELS[(vendor, kind)]
        ports = tuple(p for spec in specs for p in expand_ports(spec))
        dev = Device(
            id=sid,
            kind="switch",
            role=role,
            name=name,
            site=site.id,
            ip=self.ip_switch.take(),
            mac=self.mac(vendor, sid),
            vendor=vendor,
            model=model,
            serial=self.serial(vendor, model),
            firmware=firmware,
            auth="switches-v3" if vendor == "huawei" else "switches-v2c",
            uplink=uplink,
            ports=ports,
            township=site.township,
            village=site.village,
        )
        self.inv.devices[sid] = dev
        return dev

    def uplink_port(self, dev: Device) -> str:
        kind = (
            "pole"
            if dev.model in (SWITCH_MODELS[("huawei", "pole")][0], SWITCH_MODELS[("h3c", "pole")][0])
            else dev.role
        )
        return SWITCH_MODELS[(dev.vendor, kind)][3]

    def link(self, child: Device, parent_port: PortRef, build: str, km: float) -> None:
        self.link_no += 1
        lid = f"fl-{child.township or 'core'}-{self.link_no:04d}"
        length = max(
            80, int(km * 1000 * self.rng.uniform(1.15, 1.45))
        )  # fiber follows roads, not crow-flight
        loss = round(
            length / 1000 * 0.35 + 2 * 0.5 + 0.3 * self.rng.randint(1, 4), 1
        )  # fiber + connectors + splices
        self.inv.links[lid] = FiberLink(
            id=lid,
            a=PortRef(child.id, self.uplink_port(child)),
            b=parent_port,
            length_m=length,
            cores=4 if build == "sharp_eyes" else 6,
            budget_db=loss,
            rx_min_dbm=-20.0 if child.role != "aggregation" else -16.0,  # backbone: 10G-ER class optics
            build=build,
            township=child.township,
        )

    def camera(
        self,
        cid: str,
        role: str,
        vendor: str,
        funding: str,
        site: Site,
        uplink: PortRef,
        installed: dt.date,
        spot: str,
    ) -> Device:
        model, firmware, kbps = CAMERA_MODELS.get((vendor, role)) or CAMERA_MODELS[("hikvision", role)]
        if (vendor, role) not in CAMERA_MODELS:
            vendor = "hikvision"
        dev = Device(
            id=cid,
            kind="camera",
            role=role,
            name=f"{spot}{ROLE_ZH[role]}",
            site=site.id,
            ip=self.ip_camera.take(),
            mac=self.mac(vendor, cid),
            vendor=vendor,
            model=model,
            serial=self.serial(vendor, model),
            firmware=firmware,
            funding=funding,
            installed=installed,
            auth="cams-v3" if funding == "sharp_eyes" else "cams-legacy",
            uplink=uplink,
            bitrate_kbps=kbps,
            township=site.township,
            village=site.village,
            tags=("key_area",)
            if role in ("face_recognition", "high_altitude_lookout") or "学校" in spot
            else (),
        )
        self.inv.devices[cid] = dev
        return dev

    def date(self, start: str, end: str) -> dt.date:
        a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        return a + dt.timedelta(days=self.rng.randrange((b - a).days + 1))

    # --- the fleet ------------------------------------------------------------------------------
    def build(self) -> Inventory:
        for c in CONTRACTORS:
            self.inv.contractors[c.id] = c
        centre = self.site(
            "district-centre", f"{self.spec.district_name}视频监控中心", *DISTRICT_CENTRE, "", ""
        )
        core = self.switch(
            "core-1", f"{self.spec.district_name}视频专网核心交换机", "huawei", "core", "core", centre, None
        )
        if self.spec.synthetic_townships:  # a prefecture core: one 48-port line card per 12 townships
            cards = self.spec.synthetic_townships // 12 + 1
            core.ports = (
                *(
                    Port(f"XGigabitEthernet{c}/0/{i}", "fiber")
                    for c in range(1, cards + 1)
                    for i in range(1, 49)
                ),
                *(p for p in core.ports if p.media == "copper"),
            )
        core_ports = iter(p for p in core.ports if p.media == "fiber")
        copper = iter(p for p in core.ports if p.media == "copper")
        for kind, role, name in (
            ("platform", "district", "区级视频监控平台"),
            ("nvr", "recording", "区级存储"),
        ):
            self._server(
                f"{kind}-district",
                kind,
                role,
                f"{self.spec.district_name}{name}",
                centre,
                PortRef(core.id, next(copper).name),
            )
        for t in self.townships():
            self.township(t, core, core_ports)
        Recorders(self).assign()
        return self.inv

    def _server(self, sid: str, kind: str, role: str, name: str, site: Site, uplink: PortRef) -> Device:
        dev = Device(
            id=sid,
            kind=kind,
            role=role,
            name=name,
            site=site.id,
            ip=self.ip_platform.take(),
            mac=self.mac("huawei", sid),
            vendor="huawei" if kind == "platform" else "hikvision",
            model="FusionServer 2288H V5" if kind == "platform" else "DS-96256N-I24",
            serial=self.serial("huawei", sid),
            auth="platforms",
            uplink=uplink,
            township=site.township,
            village=site.village,
        )
        self.inv.devices[sid] = dev
        return dev

    def townships(self) -> Iterator[tuple]:
        if not self.spec.synthetic_townships:
            yield from TOWNSHIPS
            return
        for i in range(self.spec.synthetic_townships):
            angle = 2 * math.pi * i / self.spec.synthetic_townships
            r = 0.03 + 0.07 * (i % 7) / 7
            centre = (35.41 + r * math.sin(angle), 113.91 + r * math.cos(angle) * 1.2)
            villages = [(f"v{j:02d}", f"第{j + 1}村") for j in range(self.spec.villages_per_township)]
            yield (
                f"t{i:03d}",
                f"第{i + 1}乡镇",
                f"Township {i + 1}",
                "rural" if i % 3 else "urban",
                CONTRACTORS[i % 3].id,
                centre,
                villages,
            )

    def village_plan(self, townships: list[tuple]) -> dict[str, tuple[int, int]]:
        """village id → (sharp eyes cameras, other district-funded cameras)."""
        vids = [f"{t[0]}-{v[0]}" for t in townships for v in t[6]]
        weights = {vid: self.rng.uniform(0.55, 1.45) for vid in vids}
        if self.spec.synthetic_townships:
            n = self.spec.cameras_per_village
            return {vid: (max(6, round(n * 0.2)), n - max(6, round(n * 0.2))) for vid in vids}
        ranked = sorted(vids, key=lambda v: weights[v])
        sharp = dict(zip(ranked, SHARP_EYES_PER_VILLAGE, strict=True))
        # every village gets one PTZ/face/lookout; the largest get a second, until the 66 are placed
        extra = len(SHARP_EYES_SPECIAL) - len(vids)
        self._specials = {vid: 1 + (i < extra) for i, vid in enumerate(reversed(ranked))}
        legacy_total = DISTRICT_FUNDED - sum(SHARP_EYES_PER_VILLAGE)
        total_w = sum(weights.values())
        legacy = {vid: int(legacy_total * weights[vid] / total_w) for vid in vids}
        for vid in sorted(vids, key=lambda v: -weights[v])[: legacy_total - sum(legacy.values())]:
            legacy[vid] += 1
        return {vid: (sharp[vid], legacy[vid]) for vid in vids}

    def township(self, t: tuple, core: Device, core_ports: Iterator[Port]) -> None:
        tid, name, name_en, area, contractor, (clat, clon), villages = t
        if not hasattr(self, "_plan"):
            self._plan = self.village_plan(list(self.townships()))
            pool = list(SHARP_EYES_SPECIAL)
            self.rng.shuffle(pool)
            self._special = iter(pool)
        vendor = SWITCH_VENDOR.get(tid) or ("huawei", "h3c")[int(tid[1:]) % 2]
        self.inv.townships[tid] = Township(tid, name, name_en, area, contractor, platform=f"platform-{tid}")
        tsite = self.site(f"{tid}-centre", f"{name}综治中心", clat, clon, tid, "")
        aggs: list[Device] = []
        agg_ports: list[Iterator[Port]] = []

        def agg_port() -> PortRef:
            # next free fiber port on the township's aggregation switches; add one when full
            while True:
                if agg_ports:
                    for p in agg_ports[-1]:
                        if p.name != self.uplink_port(aggs[-1]):
                            return PortRef(aggs[-1].id, p.name)
                n = len(aggs) + 1
                agg = self.switch(
                    f"agg-{tid}-{n}",
                    f"{name}汇聚交换机{n}",
                    vendor,
                    "aggregation",
                    "aggregation",
                    tsite,
                    PortRef(core.id, next(core_ports).name),
                )
                self.link(agg, agg.uplink, "backbone", math.dist((clat, clon), DISTRICT_CENTRE) * 100)  # type: ignore[arg-type]
                aggs.append(agg)
                agg_ports.append(iter([p for p in agg.ports if p.media == "fiber"]))

        agg_port()  # creates the first aggregation switch; its first fiber port stays spare
        agg_copper = iter([PortRef(aggs[0].id, p.name) for p in aggs[0].ports if p.media == "copper"])
        for kind, role, sname in (
            ("platform", "township", "乡级视频监控平台"),
            ("nvr", "recording", "乡级存储"),
        ):
            self._server(f"{kind}-{tid}", kind, role, f"{name}{sname}", tsite, next(agg_copper))

        city_left = CITY_PHASE3.get(tid, 0) if not self.spec.synthetic_townships else 0
        for vi, (vslug, vname) in enumerate(villages):
            vid = f"{tid}-{vslug}"
            self.inv.villages[vid] = Village(vid, vname, vslug.capitalize(), tid)
            angle = 2 * math.pi * vi / len(villages) + self.rng.uniform(-0.2, 0.2)
            dist = self.rng.uniform(0.008, 0.03)
            vlat, vlon = clat + dist * math.sin(angle), clon + dist * math.cos(angle) * 1.2
            sharp, legacy = self._plan[vid]
            city = 0
            if city_left:
                city = city_left // (len(villages) - vi)
                city_left -= city
            self.village(vid, vname, tid, (vlat, vlon), sharp, legacy, city, vendor, agg_port)

    def village(
        self,
        vid: str,
        vname: str,
        tid: str,
        centre: tuple[float, float],
        sharp: int,
        legacy: int,
        city: int,
        vendor: str,
        agg_port: Callable[[], PortRef],
    ) -> None:
        v = _Village(self, vid, vname, tid, centre, vendor, agg_port)
        self._sharp_eyes_cameras(v, sharp)
        # Earlier district-funded cameras and city phase-3 cameras on village access switches.
        for funding, count, cam_vendors, window in (
            ("district", legacy, ("hikvision", "dahua"), ("2016-04-01", "2018-11-30")),
            ("city_phase3", city, ("uniview", "hikvision"), ("2019-09-01", "2020-06-30")),
        ):
            if count:
                self._access_cameras(v, funding, count, cam_vendors, window)

    def _sharp_eyes_cameras(self, v: _Village, sharp: int) -> None:
        """Sharp Eyes: every fixed camera on its own pole with a pole switch and a new fiber run."""
        roles = ["bullet"] * sharp
        for k in range(self._specials.get(v.vid, 0)):
            roles[-1 - k] = next(self._special)
        bullets = [r for r in roles if r == "bullet"]
        poles: list[tuple[Device, Iterator[Port], str]] = []
        for _ in bullets:
            site, spot = v.spot_site()
            sw = self.switch(
                f"sw-{v.vid}-p{len(poles) + 1:02d}",
                f"{spot}立杆交换机",
                v.vendor,
                "pole",
                "access",
                site,
                v.agg_port(),
            )
            self.link(sw, sw.uplink, "sharp_eyes", self.rng.uniform(0.4, 2.5))  # type: ignore[arg-type]
            ports = iter([p for p in sw.ports if p.media == "copper"])
            poles.append((sw, ports, spot))
        installed_window = ("2019-03-01", "2019-08-15")
        for i, role in enumerate(roles):
            sw, ports, spot = poles[i % len(poles)]
            site = self.inv.sites[sw.site]
            self.camera(
                v.next_cam_id(),
                role,
                "hikvision",
                "sharp_eyes",
                site,
                PortRef(sw.id, next(ports).name),
                self.date(*installed_window),
                spot,
            )

    def _access_cameras(
        self, v: _Village, funding: str, count: int, cam_vendors: tuple[str, str], window: tuple[str, str]
    ) -> None:
        """``count`` cameras of one funding source, two per spot, on access switches filled in turn."""
        sw_ports: Iterator[Port] = iter(())
        acc: Device | None = None
        used = ACCESS_CAPACITY
        for i in range(count):
            if used >= ACCESS_CAPACITY:
                acc, site, spot = self._access_switch(v, funding)  # the switch's spot until the next one
                sw_ports = iter([p for p in acc.ports if p.media == "copper"])
                used = 0
            if i % 2 == 0:
                site, spot = v.spot_site()
            role = "ptz_dome" if i % 9 == 4 else "bullet"
            cam_vendor = cam_vendors[i % 3 == 2]
            assert acc is not None
            self.camera(
                v.next_cam_id(),
                role,
                cam_vendor,
                funding,
                site,
                PortRef(acc.id, next(sw_ports).name),
                self.date(*window),
                spot,
            )
            used += 1

    def _access_switch(self, v: _Village, funding: str) -> tuple[Device, Site, str]:
        """The village's next access switch for cameras of ``funding``, with its fiber run, and its spot."""
        tag = "c" if funding == "city_phase3" else "a"
        n = v.switches_made[tag] = v.switches_made.get(tag, 0) + 1
        site, spot = v.spot_site()
        label = "城市三期接入交换机" if tag == "c" else "村级接入交换机"
        up = v.agg_port()
        acc = self.switch(f"sw-{v.vid}-{tag}{n}", f"{v.vname}{label}{n}", v.vendor, "access", "access", site, up)
        self.link(acc, up, "city_phase3" if tag == "c" else "district", self.rng.uniform(0.5, 3.0))
        return acc, site, spot


@dataclass(slots=True)
class _Village:
    """One village being built: where its spots are, and its running spot, camera and switch counts."""

    builder: Builder
    vid: str
    vname: str
    tid: str
    centre: tuple[float, float]
    vendor: str
    agg_port: Callable[[], PortRef]  # the next free fiber port on the township's aggregation switches
    spot_no: int = 0
    cam_no: int = 0
    switches_made: dict[str, int] = field(default_factory=dict)

    def spot_site(self) -> tuple[Site, str]:
        """The next spot (a site near the village centre) and its name."""
        n = self.spot_no
        self.spot_no += 1
        vlat, vlon = self.centre
        rng = self.builder.rng
        spot = SPOTS[n % len(SPOTS)] + (f"{n // len(SPOTS) + 1}号" if n >= len(SPOTS) else "")
        s = self.builder.site(
            f"{self.vid}-s{n + 1:03d}",
            f"{self.vname}{spot}",
            vlat + rng.uniform(-0.006, 0.006),
            vlon + rng.uniform(-0.007, 0.007),
            self.tid,
            self.vid,
        )
        return s, f"{self.vname}{spot}"

    def next_cam_id(self) -> str:
        self.cam_no += 1
        return f"cam-{self.vid}-{self.cam_no:03d}"


# Recorders of a township's storage: the first is the existing ``nvr-<township>``, further ones
# alternate between a Dahua and an ONVIF Profile G recorder so every dialect records real cameras.
RECORDER_MODELS = {
    "hikvision": ("DS-96256N-I24", 256),
    "dahua": ("DHI-NVR616H-128-XI", 128),
    "uniview": ("NVR516-128", 128),
}


class Recorders:
    """A pass after the fleet is built: it adds the extra township recorders and assigns every camera
    a channel. It runs last and draws no random numbers, so every other device stays as it was."""

    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.inv = builder.inv
        self.ips = Addresses("127.19.0.1")

    def assign(self) -> None:
        cams: dict[str, list[Device]] = {}
        for dev in self.inv.devices.values():
            if dev.kind == "camera" and dev.township:
                cams.setdefault(dev.township, []).append(dev)
        for tid, tcams in cams.items():
            self.township(tid, tcams)

    def township(self, tid: str, cams: list[Device]) -> None:
        first = self.inv.devices.get(f"nvr-{tid}")
        if first is None:
            return
        recorders = [(first, RECORDER_MODELS["hikvision"][1])]
        n = RECORDER_MODELS["hikvision"][1]
        while n < len(cams):
            vendor = ("dahua", "uniview")[(len(recorders) - 1) % 2]
            recorders.append((self.extra(first, len(recorders) + 1, vendor), RECORDER_MODELS[vendor][1]))
            n += RECORDER_MODELS[vendor][1]
        it = iter(cams)
        for rec, channels in recorders:
            for ch, cam in zip(range(1, channels + 1), it, strict=False):
                cam.recording = Recording(rec.id, ch)

    def extra(self, first: Device, n: int, vendor: str) -> Device:
        model = RECORDER_MODELS[vendor][0]
        rid = f"{first.id}-{n}"
        dev = Device(
            id=rid, kind="nvr", role="recording", name=f"{first.name}{n}", site=first.site,
            ip=self.ips.take(), mac=self.b.mac(vendor, rid), vendor=vendor, model=model,
            serial=f"{model[:8]}{hashlib.sha1(rid.encode()).hexdigest()[:12].upper()}",
            auth=first.auth, uplink=self.free_port(first), township=first.township, village=first.village,
        )
        self.inv.devices[rid] = dev
        return dev

    def free_port(self, first: Device) -> PortRef | None:
        """The first free copper port on the township's aggregation switches, in order."""
        used = {(d.uplink.switch, d.uplink.port) for d in self.inv.devices.values() if d.uplink}
        used |= {(e.switch, e.port) for lk in self.inv.links.values() for e in (lk.a, lk.b)}
        aggs = [d for d in self.inv.devices.values() if d.role == "aggregation" and d.site == first.site]
        for sw in aggs:
            for p in sw.ports:
                if p.media == "copper" and (sw.id, p.name) not in used:
                    return PortRef(sw.id, p.name)
        return None


def generate(spec: FleetSpec | None = None) -> Inventory:
    inv = Builder(spec or FleetSpec()).build()
    if not (spec and spec.synthetic_townships):
        _sample_statuses(inv)
    return inv


def _sample_statuses(inv: Inventory) -> None:
    """A few non-active records, as a real ledger has: they are listed but neither probed nor counted."""
    legacy = [d for d in inv.devices.values() if d.kind == "camera" and d.funding == "district"]
    for dev, status in zip(legacy[7::401], ("failed", "decommissioning", "offline", "failed"), strict=False):
        dev.status = status


def scaled_spec(devices: int) -> FleetSpec:
    """A prefecture-scale spec with roughly ``devices`` devices (cameras + switches + servers)."""
    per_village = 45
    per_township = 10
    # ~45 cameras + ~11 switches per village
    villages = max(1, round(devices / (per_village + 11)))
    return FleetSpec(
        district_id="prefecture",
        district_name="示例地级市",
        district_name_en="Sample Prefecture",
        synthetic_townships=max(1, villages // per_township),
        villages_per_township=per_township,
        cameras_per_village=per_village,
    )

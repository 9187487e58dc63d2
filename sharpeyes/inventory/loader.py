"""Load an inventory directory: ``district.yaml`` plus ``townships/*.yaml``.

Every file is read strictly (unknown keys rejected) and every problem is collected; the load
fails once with all of them (InventoryError), each naming file:line, the object and the field.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import yaml

from sharpeyes.cli import EXIT_USAGE, UserError, problems_error
from sharpeyes.yamlnodes import (
    MappingReader,
    Problem,
    Problems,
    compose_file,
    one_of,
    read_text,
    to_date,
    to_float,
    to_id,
    to_int,
    to_ipv4,
    to_mac,
)

from .model import (
    AREAS,
    FUNDING,
    KINDS,
    MEDIA,
    ROLES,
    STATUSES,
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
    Source,
    Township,
    Village,
)
from .recording import to_plan


class InventoryError(Exception):
    """The inventory is invalid; ``problems`` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        n = len(problems)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in inventory:\n" + "\n".join(map(str, problems)))

    def user_error(self, where: str | Path, status: int = EXIT_USAGE) -> UserError:
        """How every command reports an invalid inventory: ``WHERE: N inventory errors`` and then
        each problem as file:line (the one way, so that every command reads alike)."""
        return problems_error(str(where), "inventory", self.problems, status)


DISTRICT_KEYS = frozenset({"district", "contractors", "sites", "fiber_links"})
TOWNSHIP_KEYS = frozenset({"township", "sites", "villages", "fiber_links"})
COMMON_DEVICE_KEYS = frozenset(
    {"id", "kind", "role", "name", "ip", "status", "mac", "vendor", "model", "serial", "firmware", "funding",
     "installed", "contractor", "auth", "uplink", "tags"}
)
DEVICE_KEYS = {
    "camera": COMMON_DEVICE_KEYS | {"bitrate_kbps", "rtsp_port", "onvif_port", "recording"},
    "switch": COMMON_DEVICE_KEYS | {"ports"},
    "nvr": COMMON_DEVICE_KEYS,
    "platform": COMMON_DEVICE_KEYS,
}
ALL_DEVICE_KEYS = frozenset().union(*DEVICE_KEYS.values())
_RANGE = re.compile(r"^(?P<prefix>.*?)(?P<start>\d+)-(?P<end>\d+)$")


def expand_ports(spec: str) -> list[Port]:
    """``GigabitEthernet0/0/1-24`` or ``XGigabitEthernet0/0/1-4:fiber`` → ports."""
    name, _, media = spec.partition(":")
    media = media or "copper"
    if media not in MEDIA:
        raise ValueError(f"port media {media!r} is not one of {', '.join(MEDIA)}")
    m = _RANGE.match(name)
    if not m:
        return [Port(name, media)]
    start, end = int(m["start"]), int(m["end"])
    if end < start or end - start > 1024:
        raise ValueError(f"port range {name!r} is empty or too large")
    return [Port(f"{m['prefix']}{i}", media) for i in range(start, end + 1)]


class _FileLoader:
    def __init__(self, inv: Inventory, problems: Problems, path: str) -> None:
        self.inv = inv
        self.problems = problems
        self.path = path

    def sites(self, r: MappingReader, township: str, village: str) -> None:
        for node in r.seq("sites"):
            s = MappingReader(self.path, node, "site", self.problems)
            sid = s.scalar("id", to_id)
            s.obj = f"site {sid}"
            s.reject_unknown({"id", "name", "lat", "lon", "devices"})
            site = Site(
                id=sid or "",
                name=s.scalar("name") or "",
                lat=s.scalar("lat", to_float) or 0.0,
                lon=s.scalar("lon", to_float) or 0.0,
                township=township,
                village=village,
                source=s.source,
            )
            if sid:
                if sid in self.inv.sites:
                    s.error("id", f"duplicate site id (first defined at {self.inv.sites[sid].source})")
                else:
                    self.inv.sites[sid] = site
            for dnode in s.seq("devices"):
                self.device(dnode, site)

    def device(self, node: yaml.Node, site: Site) -> None:
        r = MappingReader(self.path, node, "device", self.problems)
        did = r.scalar("id", to_id)
        r.obj = f"device {did}"
        kind = r.scalar("kind", one_of(*KINDS))
        r.reject_unknown(DEVICE_KEYS.get(kind or "", ALL_DEVICE_KEYS))  # bad kind: already reported
        role = r.scalar("role", one_of(*ROLES[kind]) if kind else str)
        uplink = None
        up = r.mapping("uplink", r.obj)
        if up is not None:
            up.reject_unknown({"switch", "port"})
            sw, port = up.scalar("switch", to_id), up.scalar("port")
            if sw and port:
                uplink = PortRef(sw, port)
        ports: list[Port] = []
        for spec in r.str_list("ports"):
            try:
                ports.extend(expand_ports(spec))
            except ValueError as exc:
                r.error("ports", str(exc))
        dev = Device(
            id=did or "",
            kind=kind or "",
            role=role or "",
            name=r.scalar("name") or "",
            site=site.id,
            ip=r.scalar("ip", to_ipv4) or "",
            status=r.scalar("status", one_of(*STATUSES), "active") or "active",
            mac=r.scalar("mac", to_mac, "") or "",
            vendor=r.scalar("vendor", str, "") or "",
            model=r.scalar("model", str, "") or "",
            serial=r.scalar("serial", str, "") or "",
            firmware=r.scalar("firmware", str, "") or "",
            funding=r.scalar("funding", one_of(*FUNDING), "") or "",
            installed=r.scalar("installed", to_date, None),
            contractor=r.scalar("contractor", to_id, "") or "",
            auth=r.scalar("auth", to_id, "") or "",
            uplink=uplink,
            bitrate_kbps=r.scalar("bitrate_kbps", to_int, 0) or 0,
            rtsp_port=r.scalar("rtsp_port", to_int, 554) or 554,
            onvif_port=r.scalar("onvif_port", to_int, 80) or 80,
            ports=tuple(ports),
            tags=r.str_list("tags"),
            township=site.township,
            village=site.village,
            source=r.source,
            recording=self.recording(r),
        )
        if kind == "camera" and not dev.funding:
            r.error("funding", "required field is missing for a camera")
        if not did:
            return
        if did in self.inv.devices:
            r.error("id", f"duplicate device id (first defined at {self.inv.devices[did].source})")
            return
        self.inv.devices[did] = dev

    def recording(self, r: MappingReader) -> Recording | None:
        rec = r.mapping("recording", r.obj)
        if rec is None:
            return None
        rec.reject_unknown({"recorder", "channel", "plan", "retention_days"})
        recorder, channel = rec.scalar("recorder", to_id), rec.scalar("channel", to_int)
        days = rec.scalar("retention_days", to_int, 0) or 0
        if days < 0 or days > 3650:
            rec.error("retention_days", f"{days} is outside 1..3650")
        if not recorder or channel is None:
            return None
        return Recording(recorder, channel, rec.scalar("plan", to_plan, "24x7") or "24x7", days, rec.source)

    def links(self, r: MappingReader, township: str) -> None:
        for node in r.seq("fiber_links"):
            f = MappingReader(self.path, node, "fiber link", self.problems)
            lid = f.scalar("id", to_id)
            f.obj = f"fiber link {lid}"
            f.reject_unknown({"id", "a", "b", "length_m", "cores", "budget_db", "rx_min_dbm", "status",
                              "build", "contractor"})
            ends: list[PortRef | None] = []
            for key in ("a", "b"):
                e = f.mapping(key, f.obj, required=True)
                if e is None:
                    ends.append(None)
                    continue
                e.reject_unknown({"switch", "port"})
                sw, port = e.scalar("switch", to_id), e.scalar("port")
                ends.append(PortRef(sw, port) if sw and port else None)
            link = FiberLink(
                id=lid or "",
                a=ends[0] or PortRef("", ""),
                b=ends[1] or PortRef("", ""),
                length_m=f.scalar("length_m", to_int) or 0,
                cores=f.scalar("cores", to_int, 2) or 2,
                budget_db=f.scalar("budget_db", to_float) or 0.0,
                rx_min_dbm=f.scalar("rx_min_dbm", to_float, -20.0),
                status=f.scalar("status", one_of(*STATUSES), "active") or "active",
                build=f.scalar("build", str, "") or "",
                contractor=f.scalar("contractor", to_id, "") or "",
                township=township,
                source=f.source,
            )
            if not lid or None in ends:
                continue
            if lid in self.inv.links:
                f.error("id", f"duplicate fiber link id (first defined at {self.inv.links[lid].source})")
                continue
            self.inv.links[lid] = link

    def district_file(self, root: MappingReader) -> None:
        root.reject_unknown(DISTRICT_KEYS)
        d = root.mapping("district", "district", required=True)
        if d is not None:
            d.reject_unknown({"id", "name", "name_en", "timezone", "bbox"})
            b = d.mapping("bbox", "district", required=True)
            bbox = BBox(0, 0, 0, 0)
            if b is not None:
                b.reject_unknown({"south", "north", "west", "east"})
                bbox = BBox(*(b.scalar(k, to_float) or 0.0 for k in ("south", "north", "west", "east")))
            self.inv.district = District(
                id=d.scalar("id", to_id) or "",
                name=d.scalar("name") or "",
                name_en=d.scalar("name_en", str, "") or "",
                timezone=d.scalar("timezone", str, "Asia/Shanghai") or "Asia/Shanghai",
                bbox=bbox,
                source=d.source,
            )
        for node in root.seq("contractors", required=True):
            c = MappingReader(self.path, node, "contractor", self.problems)
            cid = c.scalar("id", to_id)
            c.obj = f"contractor {cid}"
            c.reject_unknown({"id", "name", "name_en", "phone"})
            if cid in self.inv.contractors:
                c.error("id", "duplicate contractor id")
            elif cid:
                self.inv.contractors[cid] = Contractor(
                    cid, c.scalar("name") or "", c.scalar("name_en", str, "") or "",
                    c.scalar("phone", str, "") or "", c.source,
                )
        self.sites(root, "", "")
        self.links(root, "")

    def township_file(self, root: MappingReader) -> None:
        root.reject_unknown(TOWNSHIP_KEYS)
        t = root.mapping("township", "township", required=True)
        if t is None:
            return
        tid = t.scalar("id", to_id)
        t.obj = f"township {tid}"
        t.reject_unknown({"id", "name", "name_en", "area", "contractor", "platform"})
        if not tid:
            return
        if tid in self.inv.townships:
            t.error("id", f"duplicate township id (first defined at {self.inv.townships[tid].source})")
            return
        self.inv.townships[tid] = Township(
            tid, t.scalar("name") or "", t.scalar("name_en", str, "") or "",
            t.scalar("area", one_of(*AREAS)) or "rural", t.scalar("contractor", to_id) or "",
            t.scalar("platform", to_id, "") or "", t.source,
        )
        self.sites(root, tid, "")
        for node in root.seq("villages"):
            v = MappingReader(self.path, node, "village", self.problems)
            vid = v.scalar("id", to_id)
            v.obj = f"village {vid}"
            v.reject_unknown({"id", "name", "name_en", "contractor", "sites"})
            if not vid:
                continue
            if vid in self.inv.villages:
                v.error("id", f"duplicate village id (first defined at {self.inv.villages[vid].source})")
                continue
            self.inv.villages[vid] = Village(
                vid, v.scalar("name") or "", v.scalar("name_en", str, "") or "", tid,
                v.scalar("contractor", to_id, "") or "", v.source,
            )
            self.sites(v, tid, vid)
        self.links(root, tid)


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "...")
               for line in text.splitlines())


def inventory_files(directory: Path) -> tuple[Path, list[Path]]:
    return directory / "district.yaml", sorted((directory / "townships").glob("*.yaml"))


def load_inventory(directory: str | Path, validate: bool = True) -> Inventory:
    """Load and validate an inventory directory; raise InventoryError listing every problem."""
    # The load allocates millions of acyclic objects (YAML nodes, devices); the cyclic collector
    # would rescan the growing heap again and again (52 s instead of 14 s for 100k devices).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(Path(directory), validate)
    finally:
        if enabled:
            gc.enable()


def _load(directory: Path, validate: bool) -> Inventory:
    problems = Problems()
    inv = Inventory(District("", "", "", "Asia/Shanghai", BBox(-90, 90, -180, 180)))
    district_path, township_paths = inventory_files(directory)
    if not directory.is_dir():
        raise InventoryError([Problem(str(directory), 0, "", "", "inventory directory does not exist")])
    if not district_path.is_file():
        problems.add(Source(str(district_path), 0), "", "", "district.yaml is missing")
    for path in [district_path, *township_paths]:
        if not path.is_file():
            continue
        rel = str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)
        text = read_text(path, rel, problems)
        if text is None:
            continue
        if _only_comments(text):  # silently skipping it would drop a whole township
            problems.add(Source(rel, 1), "", "", "empty file (no YAML document): restore its content, "
                         "or delete the file to remove the township")
            continue
        node = compose_file(rel, text, problems, aliases=False)
        if node is None:
            continue
        root = MappingReader(rel, node, "", problems)
        loader = _FileLoader(inv, problems, rel)
        if path == district_path:
            loader.district_file(root)
        else:
            loader.township_file(root)
    if validate:
        from .validate import validate_inventory

        validate_inventory(inv, problems)
    if problems:
        raise InventoryError(sorted(problems, key=lambda p: (p.file, p.line, p.obj, p.field)))
    return inv

"""Which vendor family a switch belongs to, and which unit its Huawei optics report in.

Decided from what the device says (sysObjectID enterprise number, sysDescr), the inventory's
vendor only as a hint when the device says nothing useful: an inventory writing "hp" for an
HP-branded Comware switch must not lose its optics. Each rule is pinned by a real capture.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from sharpeyes.contract import canonical_vendor
from sharpeyes.exporters.snmp.transport import Value

# sysObjectID enterprise -> family (IANA private enterprise numbers)
ENTERPRISES = {
    2011: "huawei",
    25506: "h3c",  # H3C, and the HP/HPE-branded Comware switches (HP FF 5700: 25506.11.1.172)
    3902: "zte",
    4881: "ruijie",
    5651: "maipu",
    11863: "tplink",
    9: "cisco",
}
HP_ENTERPRISE = 11  # HP/HPE: Comware when sysDescr says so, ProCurve/ArubaOS otherwise
FAMILIES = ("huawei", "h3c", "zte", "ruijie", "maipu", "tplink", "cisco", "generic")
_HINTS = {"huawei": "huawei", "h3c": "h3c", "zte": "zte", "ruijie": "ruijie", "maipu": "maipu",
          "tplink": "tplink", "cisco": "cisco"}

UW = "uw"
CENTI_DBM = "centi_dbm"
HUAWEI_UNITS = (UW, CENTI_DBM)
# 0.01 dBm releases: VRP8 (NetEngine, CloudEngine), YunShan OS / V600 and V300 product versions
_CENTI_DBM_RELEASES = re.compile(r"YunShan|VRP \(R\) software, ?Version 8\.|\bV[36]00R\d", re.IGNORECASE)
_UW_RELEASES = re.compile(r"VRP \(R\) software, ?Version 5\.|\bV200R\d", re.IGNORECASE)


def enterprise_of(sys_object_id: Value) -> int | None:
    if not isinstance(sys_object_id, str):
        return None
    arcs = sys_object_id.strip(".").split(".")
    if len(arcs) < 7 or arcs[:6] != ["1", "3", "6", "1", "4", "1"] or not arcs[6].isdigit():
        return None
    return int(arcs[6]) if len(arcs[6]) <= 10 else None


def detect_family(sys_object_id: Value, sys_descr: str, vendor_hint: str = "") -> str:
    enterprise = enterprise_of(sys_object_id)
    descr = sys_descr.casefold()
    if enterprise == HP_ENTERPRISE:
        return "h3c" if "comware" in descr else "generic"
    if enterprise in ENTERPRISES:
        return ENTERPRISES[enterprise]
    if "comware" in descr:
        return "h3c"
    if "huawei" in descr or "yunshan" in descr:
        return "huawei"
    return _HINTS.get(canonical_vendor(vendor_hint) or "", "generic")


def huawei_unit_of_release(sys_descr: str) -> str | None:
    """µW on VRP5 (V200, e.g. S5720), 0.01 dBm on VRP8 / YunShan (V300, V600); None if unknown."""
    if _CENTI_DBM_RELEASES.search(sys_descr):
        return CENTI_DBM
    if _UW_RELEASES.search(sys_descr):
        return UW
    return None


def _lanes(text: Value) -> list[float]:
    if not isinstance(text, bytes) or len(text) > 200:
        return []
    out = []
    for part in text.decode("ascii", "replace").split(","):
        try:
            value = float(part)
        except ValueError:
            continue
        if math.isfinite(value):
            out.append(value)
    return out


def huawei_unit_of_data(rx: Mapping[int, Value], lanes: Mapping[int, Value]) -> str | None:
    """What the table itself says: hwEntityOpticalRxPower next to hwEntityOpticalLaneRxPower.

    A negative raw value other than the -1 "absent" sentinel cannot be µW. Otherwise the per-lane
    string (dBm on YunShan, "-1.25,-1.39,..."; 0.01 dBm on the S5720 V200R010, "-270.19") is
    compared with both readings of the raw value; the unit whose reading matches a lane wins.
    """
    votes = {UW: 0, CENTI_DBM: 0}
    for ent, raw in rx.items():
        if not isinstance(raw, int) or raw == -1 or abs(raw) > 10**7:
            continue
        if raw < 0:
            votes[CENTI_DBM] += 1
            continue
        lane_dbm = [v for lane in _lanes(lanes.get(ent)) for v in (lane, lane / 100)]
        if not lane_dbm:
            continue
        readings = {CENTI_DBM: raw / 100, UW: 10 * math.log10(raw / 1000) if raw > 0 else None}
        for unit, dbm in readings.items():
            if dbm is not None and any(abs(dbm - lane) <= 0.15 for lane in lane_dbm):
                votes[unit] += 1
    if votes[UW] == votes[CENTI_DBM]:
        return None
    return UW if votes[UW] > votes[CENTI_DBM] else CENTI_DBM

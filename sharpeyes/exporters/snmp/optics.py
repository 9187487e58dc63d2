"""Optical transceiver power per vendor: small functions, each pinned by a test on a real capture.

A vendor is a class with the same three steps:
- ``discovery``: the columns to walk once per switch (cached with the ifName map), if any;
- ``oids(ports)``: the instances to GET on each probe for the fiber ports (ifIndex list);
- ``read(if_index, values)``: (rx_dbm, tx_dbm), None where the switch has no reading;
- ``readable(if_index)``: False where the exporter has no way to read that port's optics (the
  vendor's MIB is not interpreted, or no row or sensor ties to the port): counted and logged.
Chosen by the device family (family.py): "huawei", "h3c", "ruijie", "tplink" read their vendor MIB;
"zte" and "maipu" have no interpreted optics MIB (no public capture carries one) and say so; anything
else -> standard ENTITY-SENSOR-MIB.

A sentinel is never a reading. A "no light" sentinel (Huawei 0 µW, -4000 = -40.00 dBm) becomes the
-40 dBm floor only where light is expected and missing: the port is administratively up, its
module present and the port down (loss of signal, which FiberOpticalPowerLow must see); anywhere
else it is no sample. "No module" / "no diagnostics" sentinels are always no sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from sharpeyes.exporters.snmp.family import CENTI_DBM, UW, huawei_unit_of_data
from sharpeyes.exporters.snmp.ifmib import IF_ADMIN_STATUS, IF_OPER_STATUS, STATUS_UP
from sharpeyes.exporters.snmp.transport import Value

Rows = list[tuple[str, Value]]

# ENTITY-MIB (RFC 6933) entAliasMappingIdentifier: {entPhysicalIndex, logicalIndexOrZero} -> ifIndex OID
ENT_ALIAS_MAPPING = "1.3.6.1.2.1.47.1.3.2.1.2"
ENT_PHYSICAL_CONTAINED_IN = "1.3.6.1.2.1.47.1.1.1.1.4"
ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
IF_INDEX_PREFIX = "1.3.6.1.2.1.2.2.1.1."

# HUAWEI-ENTITY-EXTENT-MIB hwOpticalModuleInfoTable, indexed by entPhysicalIndex
HW_OPTICAL_RX_POWER = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8"
HW_OPTICAL_TX_POWER = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.9"
HW_OPTICAL_TEMPERATURE = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.5"
HW_OPTICAL_LANE_RX_POWER = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.32"  # "-1.25,-1.39,..." strings
HW_ABSENT = -1
HW_NO_DDM_TEMPERATURE = -255  # empty cage, or a module without digital diagnostics
HW_CENTI_DBM_DARK = -4000  # -40.00 dBm: no light (laser off, fibre dark) on 0.01 dBm releases

# HH3C-TRANSCEIVER-INFO-MIB hh3cTransceiverInfoTable, indexed by ifIndex
H3C_TRANSCEIVER_TYPE = "1.3.6.1.4.1.25506.2.70.1.1.1.2"
H3C_CUR_TX_POWER = "1.3.6.1.4.1.25506.2.70.1.1.1.9"
H3C_CUR_RX_POWER = "1.3.6.1.4.1.25506.2.70.1.1.1.12"
H3C_ABSENT = 2147483647

# RUIJIE-FIBER-MIB ruijieFiberTable, indexed by ruijieFiberPortIndex (an IfIndex)
RUIJIE_DDM_SUPPORT = "1.3.6.1.4.1.4881.1.1.10.2.105.1.1.1.15"  # TruthValue: 2 = no diagnostics
RUIJIE_RX_POWER = "1.3.6.1.4.1.4881.1.1.10.2.105.1.1.1.76"  # 0.01 dBm
RUIJIE_TX_POWER = "1.3.6.1.4.1.4881.1.1.10.2.105.1.1.1.81"
RUIJIE_INVALID = -10000  # the MIB: "The value of -10000 means the value is invalid"
TRUTH_FALSE = 2

# TPLINK-DDMSTATUS-MIB ddmStatusTable, indexed by ifIndex; readings are decimal strings in mW
TPLINK_DDM_TX_POWER = "1.3.6.1.4.1.11863.6.96.1.7.1.1.5"
TPLINK_DDM_RX_POWER = "1.3.6.1.4.1.11863.6.96.1.7.1.1.6"

# ENTITY-SENSOR-MIB (RFC 3433) entPhySensorTable, indexed by entPhysicalIndex
ENT_SENSOR_TYPE = "1.3.6.1.2.1.99.1.1.1.1"
ENT_SENSOR_SCALE = "1.3.6.1.2.1.99.1.1.1.2"
ENT_SENSOR_PRECISION = "1.3.6.1.2.1.99.1.1.1.3"
ENT_SENSOR_VALUE = "1.3.6.1.2.1.99.1.1.1.4"
ENT_SENSOR_OPER_STATUS = "1.3.6.1.2.1.99.1.1.1.5"
SENSOR_TYPE_DBM = 14  # EntitySensorDataType dBm(14)
SENSOR_SCALE_UNITS = 9  # EntitySensorDataScale units(9); yocto(1) .. yotta(17), steps of 10^3
SENSOR_STATUS_OK = 1
_SENSOR_COLUMNS = (ENT_SENSOR_VALUE, ENT_SENSOR_SCALE, ENT_SENSOR_PRECISION, ENT_SENSOR_OPER_STATUS)

UNSUPPORTED_FAMILIES = ("zte", "maipu")

# What an empty receiver reads as: 0 µW has no logarithm; SFP DDM resolution is 0.1 µW (-40 dBm).
DBM_FLOOR = -40.0
ABSENT = "absent"  # no module / no diagnostics: no sample
DARK = "dark"  # a no-light sentinel: -40 dBm where light is expected (see no_light)
Reading = float | str


def last_arc(oid: str) -> int:
    """The row's last arc; -1 for a row without one (a walk row equal to its root, a huge arc)."""
    arc = oid.rsplit(".", 1)[-1]
    return int(arc) if arc.isdigit() and len(arc) <= 10 else -1


def microwatts_to_dbm(uw: float) -> float:
    return round(10 * math.log10(uw / 1000), 2) if uw > 0 else DBM_FLOOR


def huawei_reading(raw: Value, unit: str, temperature: Value = None) -> Reading:
    """hwEntityOpticalRx/TxPower with its sentinels, in the unit this device reports.

    The MIB says 0.01 dBm, but the S5720 V200R010 capture (fixtures/snmp/huawei_s5720.snmprec)
    reports µW: RX 536 next to hwEntityOpticalLaneRxPower "-270.19" (0.01 dBm) -> 10·log10(0.536 mW)
    = -2.71 dBm agrees; read as 0.01 dBm it would be +5.36 dBm, above the module's own high
    threshold of 2.50 dBm. The YunShan S6750-H capture reports 0.01 dBm: RX -1652 next to lanes
    "-16.48,-16.07,...". family.py decides which one a device speaks.

    -1 = no module; temperature -255 = empty cage or no digital diagnostics (the row is zeros);
    0 µW or -4000 (0.01 dBm, the lanes read "-40.00") = no light. A negative raw value other than
    those cannot be µW and is no reading.
    """
    if not isinstance(raw, int) or raw == HW_ABSENT or temperature == HW_NO_DDM_TEMPERATURE:
        return ABSENT
    if unit == CENTI_DBM:
        return DARK if raw <= HW_CENTI_DBM_DARK else raw / 100
    if raw < 0:
        return ABSENT
    return DARK if raw == 0 else microwatts_to_dbm(raw)


def no_light(if_index: int, values: Mapping[str, Value]) -> float | None:
    """A no-light sentinel on a port that should be lit (admin up) and is down: loss of signal."""
    admin = values.get(f"{IF_ADMIN_STATUS}.{if_index}")
    oper = values.get(f"{IF_OPER_STATUS}.{if_index}")
    if admin == STATUS_UP and isinstance(oper, int) and oper != STATUS_UP:
        return DBM_FLOOR
    return None


def settle(reading: Reading, if_index: int, values: Mapping[str, Value]) -> float | None:
    if isinstance(reading, float | int):
        return float(reading)
    return no_light(if_index, values) if reading == DARK else None


def h3c_power_dbm(raw: Value) -> float | None:
    """hh3cTransceiverCurRX/TXPower: 0.01 dBm; 2147483647 = no reading (no DDM, no module)."""
    if not isinstance(raw, int) or raw == H3C_ABSENT:
        return None
    return raw / 100


def h3c_is_copper(transceiver_type: Value) -> bool:
    """Copper SFPs (e.g. "1000_BASE_T_AN_SFP") carry no optics; fiber ones read like "1000_BASE_LX_SFP"."""
    text = transceiver_type.decode("ascii", "replace") if isinstance(transceiver_type, bytes) else ""
    text = text.upper()
    return "COPPER" in text or "BASE_T" in text


def entity_sensor_dbm(
    value: Value, scale: Value, precision: Value, status: Value = SENSOR_STATUS_OK
) -> float | None:
    """RFC 3433: reading = value × 10^(3·(scale − units)) × 10^(−precision); only when status is ok."""
    if not (isinstance(value, int) and isinstance(scale, int) and isinstance(precision, int)):
        return None
    if status != SENSOR_STATUS_OK:
        return None
    return round(value * 10.0 ** (3 * (scale - SENSOR_SCALE_UNITS) - precision), 4)


def parse_alias_mapping(rows: Rows) -> dict[int, int]:
    """entAliasMappingIdentifier rows -> {ifIndex: entPhysicalIndex} (the first entity per ifIndex)."""
    out: dict[int, int] = {}
    cut = len(ENT_ALIAS_MAPPING) + 1
    for oid, value in rows:
        if not isinstance(value, str) or not value.startswith(IF_INDEX_PREFIX):
            continue
        ent_arc, if_arc = oid[cut:].split(".", 1)[0], value[len(IF_INDEX_PREFIX) :]
        if not (ent_arc.isdigit() and if_arc.isdigit() and len(ent_arc) <= 10 and len(if_arc) <= 10):
            continue
        ent, if_index = int(ent_arc), int(if_arc)
        if if_index not in out or ent < out[if_index]:
            out[if_index] = ent
    return out


def ruijie_power_dbm(raw: Value, ddm_support: Value = None) -> float | None:
    """ruijieFiberRX/TXpower: 0.01 dBm; -10000 = invalid; no sample where the module has no DDM."""
    if not isinstance(raw, int) or raw == RUIJIE_INVALID or ddm_support == TRUTH_FALSE:
        return None
    return raw / 100


def tplink_power(raw: Value) -> Reading:
    """ddmStatusTx/RxPow: a decimal string in mW ("0.398000"); "N/A" where no module or no DDM.

    mW is what the capture's own thresholds say: ddmTxPowThreshold 0.0631 / 0.7943 / 1.0 are the
    usual SFP limits of -12 / -1 / 0 dBm. 0 mW with a module is no light."""
    if not isinstance(raw, bytes) or len(raw) > 30:
        return ABSENT
    try:
        mw = float(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return ABSENT
    if not math.isfinite(mw) or mw < 0:
        return ABSENT
    return DARK if mw == 0 else microwatts_to_dbm(mw * 1000)


class Optics(Protocol):
    family: str
    unit: str
    source: str  # how the unit was decided: setting, model, release, table, family; unsupported
    discovery: tuple[str, ...]

    def learn(self, walked: Mapping[str, Rows]) -> None: ...

    def oids(self, if_indexes: list[int]) -> list[str]: ...

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]: ...

    def readable(self, if_index: int) -> bool: ...


class HuaweiOptics:
    """Huawei VRP / YunShan: hwOpticalModuleInfoTable by entPhysicalIndex, mapped through
    entAliasMapping. The unit is per device: given (module setting, per-model override, software
    release), else learnt from the table itself (huawei_unit_of_data), else µW."""

    family = "huawei"

    def __init__(self, unit: str | None = None, fallback: str = UW, source: str = "setting") -> None:
        self.unit = unit or fallback
        self.source = source
        self.learn_unit = unit is None
        self.discovery: tuple[str, ...] = (ENT_ALIAS_MAPPING,)
        if self.learn_unit:
            self.discovery += (HW_OPTICAL_RX_POWER, HW_OPTICAL_LANE_RX_POWER)
        self.entity: dict[int, int] = {}

    def learn(self, walked: Mapping[str, Rows]) -> None:
        self.entity = parse_alias_mapping(walked.get(ENT_ALIAS_MAPPING, []))
        if self.learn_unit:
            rx = {last_arc(o): v for o, v in walked.get(HW_OPTICAL_RX_POWER, []) if _numeric_arc(o)}
            lanes = {last_arc(o): v for o, v in walked.get(HW_OPTICAL_LANE_RX_POWER, []) if _numeric_arc(o)}
            unit = huawei_unit_of_data(rx, lanes)
            if unit is not None:
                self.unit, self.source = unit, "table"

    def oids(self, if_indexes: list[int]) -> list[str]:
        out = []
        for i in if_indexes:
            ent = self.entity.get(i)
            if ent is not None:
                out += [f"{col}.{ent}" for col in (HW_OPTICAL_RX_POWER, HW_OPTICAL_TX_POWER, HW_OPTICAL_TEMPERATURE)]
        return out

    def readable(self, if_index: int) -> bool:
        return if_index in self.entity

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        ent = self.entity.get(if_index)
        if ent is None:
            return None, None
        temperature = values.get(f"{HW_OPTICAL_TEMPERATURE}.{ent}")
        rx, tx = (
            huawei_reading(values.get(f"{col}.{ent}"), self.unit, temperature)
            for col in (HW_OPTICAL_RX_POWER, HW_OPTICAL_TX_POWER)
        )
        return settle(rx, if_index, values), settle(tx, if_index, values)


class H3cOptics:
    """H3C Comware: hh3cTransceiverInfoTable by ifIndex; nothing to discover."""

    family = "h3c"
    unit = CENTI_DBM
    source = "family"
    discovery: tuple[str, ...] = ()

    def learn(self, walked: Mapping[str, Rows]) -> None:
        return None

    def oids(self, if_indexes: list[int]) -> list[str]:
        out = []
        for i in if_indexes:
            out += [f"{H3C_CUR_RX_POWER}.{i}", f"{H3C_CUR_TX_POWER}.{i}", f"{H3C_TRANSCEIVER_TYPE}.{i}"]
        return out

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        if h3c_is_copper(values.get(f"{H3C_TRANSCEIVER_TYPE}.{if_index}")):
            return None, None
        return (
            h3c_power_dbm(values.get(f"{H3C_CUR_RX_POWER}.{if_index}")),
            h3c_power_dbm(values.get(f"{H3C_CUR_TX_POWER}.{if_index}")),
        )

    def readable(self, if_index: int) -> bool:
        return True


class RuijieOptics:
    """Ruijie: ruijieFiberTable (RUIJIE-FIBER-MIB) by ifIndex, 0.01 dBm; nothing to discover."""

    family = "ruijie"
    unit = CENTI_DBM
    source = "family"
    discovery: tuple[str, ...] = ()

    def learn(self, walked: Mapping[str, Rows]) -> None:
        return None

    def oids(self, if_indexes: list[int]) -> list[str]:
        return [f"{col}.{i}" for i in if_indexes for col in (RUIJIE_RX_POWER, RUIJIE_TX_POWER, RUIJIE_DDM_SUPPORT)]

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        ddm = values.get(f"{RUIJIE_DDM_SUPPORT}.{if_index}")
        return (
            ruijie_power_dbm(values.get(f"{RUIJIE_RX_POWER}.{if_index}"), ddm),
            ruijie_power_dbm(values.get(f"{RUIJIE_TX_POWER}.{if_index}"), ddm),
        )

    def readable(self, if_index: int) -> bool:
        return True


class TplinkOptics:
    """TP-Link JetStream: ddmStatusTable (TPLINK-DDMSTATUS-MIB) by ifIndex, mW strings."""

    family = "tplink"
    unit = "mw"
    source = "family"
    discovery: tuple[str, ...] = ()

    def learn(self, walked: Mapping[str, Rows]) -> None:
        return None

    def oids(self, if_indexes: list[int]) -> list[str]:
        return [f"{col}.{i}" for i in if_indexes for col in (TPLINK_DDM_RX_POWER, TPLINK_DDM_TX_POWER)]

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        rx = tplink_power(values.get(f"{TPLINK_DDM_RX_POWER}.{if_index}"))
        tx = tplink_power(values.get(f"{TPLINK_DDM_TX_POWER}.{if_index}"))
        return settle(rx, if_index, values), settle(tx, if_index, values)

    def readable(self, if_index: int) -> bool:
        return True


class UnsupportedOptics:
    """A family whose optics MIB the exporter does not interpret (ZTE, Maipu: no public capture
    carries their transceiver tables): no readings, and every fiber port is reported unreadable."""

    unit = "none"
    source = "unsupported"
    discovery: tuple[str, ...] = ()

    def __init__(self, family: str) -> None:
        self.family = family

    def learn(self, walked: Mapping[str, Rows]) -> None:
        return None

    def oids(self, if_indexes: list[int]) -> list[str]:
        return []

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        return None, None

    def readable(self, if_index: int) -> bool:
        return False


class EntitySensorOptics:
    """Standard ENTITY-SENSOR-MIB: dBm sensors, tied to a port by climbing entPhysicalContainedIn
    to an entity that entAliasMapping maps to an ifIndex; receive/transmit told apart by the
    sensor's entPhysicalName ("... Rx Power" / "... Tx Power", as Cisco and Arista name them)."""

    family = "generic"
    unit = "entity_sensor"
    source = "family"
    discovery: tuple[str, ...] = (
        ENT_SENSOR_TYPE,
        ENT_ALIAS_MAPPING,
        ENT_PHYSICAL_CONTAINED_IN,
        ENT_PHYSICAL_NAME,
    )

    def __init__(self) -> None:
        self.sensors: dict[int, dict[str, int]] = {}  # ifIndex -> {"rx": sensor, "tx": sensor}

    def learn(self, walked: Mapping[str, Rows]) -> None:
        dbm = [last_arc(o) for o, v in walked.get(ENT_SENSOR_TYPE, []) if v == SENSOR_TYPE_DBM]
        port_of = {ent: i for i, ent in parse_alias_mapping(walked.get(ENT_ALIAS_MAPPING, [])).items()}
        parent = {last_arc(o): v for o, v in walked.get(ENT_PHYSICAL_CONTAINED_IN, []) if isinstance(v, int)}
        names = {last_arc(o): v for o, v in walked.get(ENT_PHYSICAL_NAME, []) if isinstance(v, bytes)}
        self.sensors = {}
        for sensor in dbm:
            direction = _direction(names.get(sensor, b""))
            ent, hops = sensor, 0
            while ent not in port_of and ent in parent and hops < 8:
                ent, hops = parent[ent], hops + 1
            if direction and ent in port_of:
                self.sensors.setdefault(port_of[ent], {}).setdefault(direction, sensor)

    def readable(self, if_index: int) -> bool:
        return bool(self.sensors.get(if_index))

    def oids(self, if_indexes: list[int]) -> list[str]:
        out = []
        for i in if_indexes:
            for sensor in self.sensors.get(i, {}).values():
                out += [f"{col}.{sensor}" for col in _SENSOR_COLUMNS]
        return out

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        found = self.sensors.get(if_index, {})
        rx_tx: list[float | None] = []
        for direction in ("rx", "tx"):
            s = found.get(direction)
            rx_tx.append(
                None
                if s is None
                else entity_sensor_dbm(
                    values.get(f"{ENT_SENSOR_VALUE}.{s}"),
                    values.get(f"{ENT_SENSOR_SCALE}.{s}"),
                    values.get(f"{ENT_SENSOR_PRECISION}.{s}"),
                    values.get(f"{ENT_SENSOR_OPER_STATUS}.{s}"),
                )
            )
        return rx_tx[0], rx_tx[1]


def _direction(name: bytes) -> str:
    text = name.decode("utf-8", "replace").lower()
    if "rx" in text.split() or "receive" in text or "rx power" in text:
        return "rx"
    if "tx" in text.split() or "transmit" in text or "tx power" in text:
        return "tx"
    return ""


def optics_for(
    family: str, huawei_unit: str | None = None, huawei_fallback: str = UW, source: str = "default"
) -> Optics:
    """``huawei_unit`` forces a unit (setting or per-model override, named by ``source``); None
    learns it from the table, falling back to ``huawei_fallback`` (the release's unit, else µW)."""
    if family == "huawei":
        return HuaweiOptics(huawei_unit, huawei_fallback, source)
    if family == "h3c":
        return H3cOptics()
    if family == "ruijie":
        return RuijieOptics()
    if family == "tplink":
        return TplinkOptics()
    if family in UNSUPPORTED_FAMILIES:
        return UnsupportedOptics(family)
    return EntitySensorOptics()


def _numeric_arc(oid: str) -> bool:
    arc = oid.rsplit(".", 1)[-1]
    return arc.isdigit() and len(arc) <= 10

"""Optical transceiver power per vendor: small functions, each pinned by a test on a real capture.

A vendor is a class with the same three steps:
- ``discovery``: the columns to walk once per switch (cached with the ifName map), if any;
- ``oids(ports)``: the instances to GET on each probe for the fiber ports (ifIndex list);
- ``read(if_index, values)``: (rx_dbm, tx_dbm), None where the switch has no reading.
Chosen by ``target.vendor``: "huawei", "h3c", anything else -> standard ENTITY-SENSOR-MIB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from exporters.snmp.transport import Value

Rows = list[tuple[str, Value]]

# ENTITY-MIB (RFC 6933) entAliasMappingIdentifier: {entPhysicalIndex, logicalIndexOrZero} -> ifIndex OID
ENT_ALIAS_MAPPING = "1.3.6.1.2.1.47.1.3.2.1.2"
ENT_PHYSICAL_CONTAINED_IN = "1.3.6.1.2.1.47.1.1.1.1.4"
ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
IF_INDEX_PREFIX = "1.3.6.1.2.1.2.2.1.1."

# HUAWEI-ENTITY-EXTENT-MIB hwOpticalModuleInfoTable, indexed by entPhysicalIndex
HW_OPTICAL_RX_POWER = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8"
HW_OPTICAL_TX_POWER = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1.9"
HW_ABSENT = -1

# HH3C-TRANSCEIVER-INFO-MIB hh3cTransceiverInfoTable, indexed by ifIndex
H3C_TRANSCEIVER_TYPE = "1.3.6.1.4.1.25506.2.70.1.1.1.2"
H3C_CUR_TX_POWER = "1.3.6.1.4.1.25506.2.70.1.1.1.9"
H3C_CUR_RX_POWER = "1.3.6.1.4.1.25506.2.70.1.1.1.12"
H3C_ABSENT = 2147483647

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

# What an empty receiver reads as: 0 µW has no logarithm; SFP DDM resolution is 0.1 µW (-40 dBm).
DBM_FLOOR = -40.0


def _last_arc(oid: str) -> int:
    return int(oid.rsplit(".", 1)[1])


def microwatts_to_dbm(uw: float) -> float:
    return round(10 * math.log10(uw / 1000), 2) if uw > 0 else DBM_FLOOR


def huawei_power_dbm(raw: Value, unit: str = "uw") -> float | None:
    """hwEntityOpticalRx/TxPower. -1 = no module or no DDM.

    The MIB says 0.01 dBm on some VRP releases, but the S5720 V200R010 capture
    (fixtures/snmp/huawei_s5720.snmprec) reports µW: RX 536 next to hwEntityOpticalLaneRxPower
    "-270.19" (0.01 dBm) -> 10·log10(0.536 mW) = -2.71 dBm agrees; read as 0.01 dBm it would be
    +5.36 dBm, above the module's own high threshold of 2.50 dBm (column .14 = 250).
    Hence unit "uw" by default and "centi_dbm" for releases that really report 0.01 dBm.
    """
    if not isinstance(raw, int) or raw == HW_ABSENT:
        return None
    if unit == "centi_dbm":
        return raw / 100
    return microwatts_to_dbm(raw)


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
        ent = int(oid[cut:].split(".", 1)[0])
        if_index = int(value[len(IF_INDEX_PREFIX) :])
        if if_index not in out or ent < out[if_index]:
            out[if_index] = ent
    return out


class Optics(Protocol):
    discovery: tuple[str, ...]

    def learn(self, walked: Mapping[str, Rows]) -> None: ...

    def oids(self, if_indexes: list[int]) -> list[str]: ...

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]: ...


class HuaweiOptics:
    """Huawei VRP: hwOpticalModuleInfoTable by entPhysicalIndex, mapped through entAliasMapping."""

    discovery: tuple[str, ...] = (ENT_ALIAS_MAPPING,)

    def __init__(self, unit: str = "uw") -> None:
        self.unit = unit
        self.entity: dict[int, int] = {}

    def learn(self, walked: Mapping[str, Rows]) -> None:
        self.entity = parse_alias_mapping(walked.get(ENT_ALIAS_MAPPING, []))

    def oids(self, if_indexes: list[int]) -> list[str]:
        out = []
        for i in if_indexes:
            ent = self.entity.get(i)
            if ent is not None:
                out += [f"{HW_OPTICAL_RX_POWER}.{ent}", f"{HW_OPTICAL_TX_POWER}.{ent}"]
        return out

    def read(self, if_index: int, values: Mapping[str, Value]) -> tuple[float | None, float | None]:
        ent = self.entity.get(if_index)
        if ent is None:
            return None, None
        return (
            huawei_power_dbm(values.get(f"{HW_OPTICAL_RX_POWER}.{ent}"), self.unit),
            huawei_power_dbm(values.get(f"{HW_OPTICAL_TX_POWER}.{ent}"), self.unit),
        )


class H3cOptics:
    """H3C Comware: hh3cTransceiverInfoTable by ifIndex; nothing to discover."""

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


class EntitySensorOptics:
    """Standard ENTITY-SENSOR-MIB: dBm sensors, tied to a port by climbing entPhysicalContainedIn
    to an entity that entAliasMapping maps to an ifIndex; receive/transmit told apart by the
    sensor's entPhysicalName ("... Rx Power" / "... Tx Power", as Cisco and Arista name them)."""

    discovery: tuple[str, ...] = (
        ENT_SENSOR_TYPE,
        ENT_ALIAS_MAPPING,
        ENT_PHYSICAL_CONTAINED_IN,
        ENT_PHYSICAL_NAME,
    )

    def __init__(self) -> None:
        self.sensors: dict[int, dict[str, int]] = {}  # ifIndex -> {"rx": sensor, "tx": sensor}

    def learn(self, walked: Mapping[str, Rows]) -> None:
        dbm = [_last_arc(o) for o, v in walked.get(ENT_SENSOR_TYPE, []) if v == SENSOR_TYPE_DBM]
        port_of = {ent: i for i, ent in parse_alias_mapping(walked.get(ENT_ALIAS_MAPPING, [])).items()}
        parent = {_last_arc(o): v for o, v in walked.get(ENT_PHYSICAL_CONTAINED_IN, []) if isinstance(v, int)}
        names = {_last_arc(o): v for o, v in walked.get(ENT_PHYSICAL_NAME, []) if isinstance(v, bytes)}
        self.sensors = {}
        for sensor in dbm:
            direction = _direction(names.get(sensor, b""))
            ent, hops = sensor, 0
            while ent not in port_of and ent in parent and hops < 8:
                ent, hops = parent[ent], hops + 1
            if direction and ent in port_of:
                self.sensors.setdefault(port_of[ent], {}).setdefault(direction, sensor)

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


def optics_for(vendor: str, huawei_unit: str = "uw") -> Optics:
    vendor = vendor.lower()
    if vendor == "huawei":
        return HuaweiOptics(huawei_unit)
    if vendor == "h3c":
        return H3cOptics()
    return EntitySensorOptics()

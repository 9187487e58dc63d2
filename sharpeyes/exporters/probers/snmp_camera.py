"""snmp_camera: the system group of a camera (or any SNMP device) in one GET."""

from __future__ import annotations

from sharpeyes.contract import UPTIME_SECONDS
from sharpeyes.exporters.probers.base import MetricWriter, Module, ProbeError, Target
from sharpeyes.exporters.snmp.client import default_client
from sharpeyes.exporters.snmp.probing import address_of, auth_of, probe_errors, settings_of, text
from sharpeyes.exporters.snmp.transport import SnmpTransport

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
OIDS = [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME]
MAX_TIMETICKS = 2**32 - 1


class SnmpCameraProber:
    """A Prober (see base.py) bound to a transport; ``probe`` below uses the process-wide client."""

    def __init__(self, transport: SnmpTransport | None = None) -> None:
        self.transport = transport

    async def __call__(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        settings = settings_of(module)
        auth = auth_of(target, settings)
        transport = self.transport or default_client()
        with probe_errors():
            values = await transport.get(address_of(target, settings), auth, OIDS, timeout, settings.retries)
        uptime = values.get(SYS_UPTIME)
        if isinstance(uptime, int) and not 0 <= uptime <= MAX_TIMETICKS:
            raise ProbeError("malformed", f"sysUpTime {str(uptime)[:30]} is not a TimeTicks value")
        if isinstance(uptime, int):
            out.gauge(UPTIME_SECONDS, "Time since the SNMP agent (re)started.", uptime / 100)
        object_id = values.get(SYS_OBJECT_ID)
        out.gauge(
            "sharpeyes_snmp_system_info",
            "SNMP system group of the device (sysDescr, sysObjectID, sysName).",
            1,
            {
                "sys_descr": text(values.get(SYS_DESCR)),
                "sys_object_id": object_id if isinstance(object_id, str) else "",
                "sys_name": text(values.get(SYS_NAME)),
            },
        )
        return True


probe = SnmpCameraProber()

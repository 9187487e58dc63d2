"""SSH CLI collection with netmiko (blocking: run.py calls it in a bounded thread pool).

One session per switch: the platform's commands (parsers.COMMANDS) are sent in order, each
output parsed (parsers.parse_outputs). A command the device refuses is skipped, not fatal.
Credentials come from the profile's ``cli:`` section and are never logged (netmiko's session log
stays off).
"""

from __future__ import annotations

import logging

from sharpeyes.exporters.discovery.auth import CliAuth
from sharpeyes.exporters.discovery.parsers import COMMANDS, parse_outputs
from sharpeyes.exporters.discovery.snmp import SwitchL2
from sharpeyes.inventory.model import Device

log = logging.getLogger("sharpeyes.discovery.cli")
_REFUSED = ("Error: Unrecognized command", "% Invalid input", "% Unrecognized command", "Error:Unrecognized",
            "Unknown command")
# older syntax to try when a device refuses the first spelling
FALLBACKS = {"show mac address-table": "show mac-address-table"}


def collect_cli(dev: Device, auth: CliAuth, port_names: list[str], timeout: float) -> SwitchL2:
    from netmiko import ConnectHandler

    step = max(5.0, timeout / 3)
    conn = ConnectHandler(device_type=auth.device_type, host=dev.ip, port=auth.port, username=auth.username,
                          password=auth.password, secret=auth.enable_secret, conn_timeout=step,
                          auth_timeout=step, banner_timeout=step, blocking_timeout=step, timeout=step,
                          fast_cli=True, session_log=None, allow_agent=False, use_keys=False)
    try:
        if auth.platform == "cisco_ios" and not conn.check_enable_mode():
            try:
                conn.enable()  # show version and friends want privileged mode on some images
            except (ValueError, OSError) as exc:
                log.debug("%s: enable failed: %s", dev.id, type(exc).__name__)
        outputs: dict[str, str] = {}
        for role, command in COMMANDS[auth.platform].items():
            text = _send(conn, command, step)
            if text is None and command in FALLBACKS:
                text = _send(conn, FALLBACKS[command], step)
            if text is None:
                log.debug("%s refused %r", dev.id, command)
                continue
            outputs[role] = text
    finally:
        conn.disconnect()
    return parse_outputs(auth.platform, dev.id, outputs, port_names)


def _send(conn: object, command: str, timeout: float) -> str | None:
    text = str(conn.send_command(command, read_timeout=timeout))  # type: ignore[attr-defined]
    if _no_output(text, command):
        # the read ended on a prompt before this command's output came (a late prompt of the previous
        # command, a slow device or link): drain what is still arriving, then ask once more
        conn.clear_buffer()  # type: ignore[attr-defined]
        text = str(conn.send_command(command, read_timeout=timeout))  # type: ignore[attr-defined]
    return None if any(marker in text for marker in _REFUSED) else text


def _no_output(text: str, command: str) -> bool:
    """Nothing, or only (part of) the command's own echo: seen as '' and 'displ' under load."""
    got = text.strip()
    return not got or command.startswith(got)

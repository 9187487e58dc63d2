"""The simulator's own SNMP agent: BER codec, USM (RFC 3414/3826), per-device MIB views.

Written independently of ``exporters/snmp`` on purpose: the exporter is tested against this agent,
snmpsim and net-snmp; sharing code would let one bug hide on both sides.
"""

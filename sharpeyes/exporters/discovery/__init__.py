"""Network discovery, inventory reconciliation and security audit (docs/discovery.md).

Imports flow toward ``inventory/``: this package uses the exporter's transports (SNMP, ONVIF) and
the inventory API; nothing in ``inventory/`` imports it.
"""

"""The exporter's SNMP client: BER codec, v3 USM, one multiplexed UDP socket, the probing helpers."""

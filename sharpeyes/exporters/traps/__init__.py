"""SNMP notifications (traps and informs) as evidence for the exporter's confirmation probes.

A trap is never a verdict: a linkDown for a port the inventory knows starts an immediate probe of
that switch through the exporter's own prober table; only a confirmed state becomes an alert, the
same alertname and label set as the rule's, posted to Alertmanager's v2 API (docs/traps.md).
"""

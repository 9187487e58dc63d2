"""sharpeyes-tickets: the fault-ticket service (Alertmanager webhook, lifecycle, SLA, API)."""

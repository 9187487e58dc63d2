"""sharpeyes-dashboards: Grafana dashboards generated with grafana-foundation-sdk (Grafana 11.6)."""

"""sharpeyes-report: the monthly online-rate (在线率) report, computed from Prometheus' history."""

"""The demo and the whole-stack harness: every component started as its own process on loopback.

Orchestration only: the simulated district (``sharpeyes.simulator``), the exporter, the ticket
service, Alertmanager and Prometheus are started through their own command lines with configs
generated here. The one package allowed to know every component (import contracts: pyproject.toml).
"""

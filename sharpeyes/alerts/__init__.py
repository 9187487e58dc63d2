"""Prometheus recording/alerting rules and the Alertmanager config for sharpeyes, generated from Python.

``alerts/config.py`` holds every selector and threshold; ``alerts/rules/*`` build the rule groups;
``alerts/build.py`` renders ``alerts/generated/``; ``sharpeyes-alerts`` (``alerts/cli.py``) builds
and checks them with promtool/amtool.
"""

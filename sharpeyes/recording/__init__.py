"""The recording collector (录像完整率, 存储天数): asks every recorder what it holds for each channel.

A component of its own, not an exporter prober: recorders are asked on a schedule of ours (hourly by
default) and what they say is kept in a store (a recorder forgets its oldest days as it overwrites
them), so the month's figure survives roll-off and restarts. Prometheus scrapes the state on /metrics.
"""

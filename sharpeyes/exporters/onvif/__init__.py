"""ONVIF camera access for the exporter: a narrow transport interface (transport.py), the real one
on onvif-zeep-async (zeep_transport.py), a recording fake (fake.py), camera quirks (quirks.py),
the per-camera client pool (pool.py) and the auth profile (auth.py)."""

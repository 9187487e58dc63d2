"""Fetching camera stills for video quality diagnosis (the ``snapshot`` prober)."""

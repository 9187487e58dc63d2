from tests.e2e.stack import district_prometheus, district_stack, district_victoriametrics, victoria_metrics  # noqa: F401

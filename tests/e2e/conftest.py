from .stack import district_prometheus, district_stack  # noqa: F401  (package fixtures)

"""sharpeyes: inventory and health monitoring for Sharp Eyes (雪亮工程) public-security video networks.

One import name. Subpackages by responsibility: ``inventory`` (the fleet model), ``exporters``,
``simulator``, ``alerts``, ``tickets``, ``dashboards``, ``reports``, ``stack`` (the demo orchestrator);
and the leaf modules every one of them may import: ``contract`` (names shared across components),
``cli`` (one command-line dialect) and ``yamlnodes`` (the strict YAML reader).
"""

__version__ = "0.2.0"

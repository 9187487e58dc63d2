"""sharpeyes-sim: a simulated district on loopback, every device at its own 127.x.y.z address.

Shares no protocol code with ``exporters/`` (a test bed built from the code it tests proves nothing).
"""

"""Multi-camera ONVIF responder (SOAP 1.2, WS-UsernameToken) for the simulator."""

from sharpeyes.simulator.onvif.server import OnvifServers

__all__ = ["OnvifServers"]

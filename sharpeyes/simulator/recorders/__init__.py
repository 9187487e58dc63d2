"""Simulated recorders (NVRs and township storage) in three dialects: Hikvision ISAPI, Dahua CGI and
ONVIF Profile G. They record each camera whenever the camera streams and the path between the two
works, so a fiber cut or a power loss leaves a real gap.

A deliberate copy: nothing here is shared with sharpeyes.recording (a test bed built from the code
it tests proves nothing); the replies are written from the same vendor formats independently.
"""

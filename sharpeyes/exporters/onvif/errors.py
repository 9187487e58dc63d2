"""The ONVIF error hierarchy. Library exceptions are translated into these once, at the transport
edge (zeep_transport.translate); each carries the ProbeError reason it becomes."""

from __future__ import annotations


class OnvifError(Exception):
    """The camera answered, but not usefully (SOAP fault, HTTP error): reason "protocol"."""

    reason = "protocol"


class OnvifTimeoutError(OnvifError):
    reason = "timeout"


class OnvifAuthError(OnvifError):
    """ter:NotAuthorized, HTTP 401, or a WS-Security rejection."""

    reason = "auth"


class OnvifNotSupportedError(OnvifError):
    """ter:ActionNotSupported or equivalent: an optional operation the camera lacks."""


class OnvifMalformedError(OnvifError):
    """Truncated or invalid XML, impossible values (a 25th hour, a 13th month)."""

    reason = "malformed"


class OnvifUnreachableError(OnvifError):
    reason = "unreachable"


class OnvifRefusedError(OnvifError):
    reason = "refused"

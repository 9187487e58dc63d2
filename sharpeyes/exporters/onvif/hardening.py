"""Defences around onvif-zeep-async that the library does not have.

- zeep accepts a SOAP body of any element and builds an empty result from it, so a camera (or
  anything on its address) answering GetDeviceInformation with a GetCapabilitiesResponse gave an
  empty-label device_info and "auth success". ExpectedResponse, a zeep ingress plugin, checks the
  body's element against the operation's output element; a mismatch is malformed.
- zeep and the library log whole SOAP requests at DEBUG, WS-Security header included
  (Username, PasswordDigest, Nonce: enough to replay within the Created window, and the username).
  RedactWsse, a filter on those loggers, blanks these elements before any handler sees the record.
"""

from __future__ import annotations

import logging
from typing import Any

import zeep
from lxml import etree

from sharpeyes.exporters.onvif.errors import OnvifMalformedError
from sharpeyes.exporters.onvif.redact import REDACTED, redact_wsse

SOAP_FAULT = "Fault"
# loggers that write SOAP envelopes (zeep's sync/async transports, the library's aiohttp transport)
ENVELOPE_LOGGERS = ("zeep.transports", "onvif.zeep_aiohttp")
__all__ = ["REDACTED", "ExpectedResponse", "RedactWsse", "install_log_redaction", "redact_wsse"]


class ExpectedResponse(zeep.Plugin):  # type: ignore[misc]
    """Reject a reply whose SOAP body is not the operation's output element (a Fault passes on
    to zeep, which raises it as such)."""

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        body = envelope.find("{*}Body") if envelope is not None else None
        expected = getattr(getattr(getattr(operation, "output", None), "body", None), "qname", None)
        if body is None or expected is None:
            return envelope, http_headers
        children = [c for c in body if isinstance(c.tag, str)]
        if not children:
            raise OnvifMalformedError(f"{operation.name}: empty SOAP body, expected {etree.QName(expected).localname}")
        got = etree.QName(children[0])
        want = etree.QName(expected)
        if got.localname != SOAP_FAULT and (got.namespace, got.localname) != (want.namespace, want.localname):
            raise OnvifMalformedError(
                f"{operation.name}: the reply is a {got.localname} ({got.namespace}), not {want.localname}"
            )
        return envelope, http_headers


class RedactWsse(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format is left to the handler's own error path
            return True
        redacted = redact_wsse(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactWsse()


def install_log_redaction() -> None:
    """Add the filter to the loggers that print envelopes (idempotent)."""
    for name in ENVELOPE_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)

"""WS-Security secrets out of logged SOAP text (zeep-free, so the lean transport can use it)."""

from __future__ import annotations

import re

REDACTED = "[redacted]"
_SECRET_ELEMENT = re.compile(r"(<((?:[\w.-]+:)?(?:Username|Password|Nonce))\b[^>]*>)(.*?)(</\2\s*>)", re.S)


def redact_wsse(text: str) -> str:
    """text with the content of every Username, Password and Nonce element replaced."""
    return _SECRET_ELEMENT.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(4)}", text)

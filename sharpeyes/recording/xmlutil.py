"""Hostile-XML reading for the recorder dialects: no entities, no DTDs, no network, bounded size,
namespace-agnostic lookups (the same ISAPI element comes in three namespaces across firmware)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from lxml import etree

from .model import CollectError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True)


def parse(body: bytes, what: str) -> etree._Element:
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as e:
        raise CollectError("malformed", f"{what}: not well-formed XML ({e.msg})") from None
    if root is None:
        raise CollectError("malformed", f"{what}: empty reply")
    return root


def local(el: etree._Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def find(el: etree._Element, *path: str) -> etree._Element | None:
    """The first descendant-by-path whose local names match, any namespace."""
    cur: etree._Element | None = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur if local(c) == name), None)
    return cur


def findall(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if local(c) == name]


def text(el: etree._Element | None, *path: str) -> str | None:
    node = find(el, *path) if el is not None and path else el
    if node is None or node.text is None:
        return None
    return node.text.strip()


def parse_time(value: str | None, tz: str, what: str) -> float:
    """ISO 8601 (``Z`` or an offset); a time without a zone is the recorder's local time."""
    if not value:
        raise CollectError("malformed", f"{what}: missing time")
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        raise CollectError("malformed", f"{what}: {value[:40]!r} is not a time") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(tz))
    return t.timestamp()

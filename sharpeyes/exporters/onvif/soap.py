"""The few ONVIF SOAP 1.2 messages the prober exchanges, built and read without a WSDL client.

A zeep client per camera cost 4-8 ms CPU per probe and ~60 kB (300 kB RSS) per camera kept
between probes (bench/bench_onvif.py); the prober needs six fixed requests and a handful of
elements from each reply. What
zeep gave us and this module keeps:
- WS-Security UsernameToken with PasswordDigest = Base64(SHA1(nonce + created + password))
  (OASIS UsernameToken Profile 1.0 §3.1), Created in UTC "Z" form without fractions (as zeep
  writes it with ``zulu_timestamp``), shifted by the camera's clock offset;
- the reply's Body element must be the operation's response element (a Fault is read as such);
  anything else is malformed (the ExpectedResponse check of the zeep path);
- values typed as the schema says: an xs:int that is not one is malformed, not a crash.
Child elements are found by local name in any namespace: cameras agree on names more than on
prefixes and schema versions.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from sharpeyes.exporters.onvif import quirks
from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import OnvifAuthError, OnvifError, OnvifMalformedError
from sharpeyes.exporters.onvif.model import CameraClock, DateTuple, DeviceInfo, EncoderConfig, Profile

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST_TYPE = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
               "#PasswordDigest")
NONCE_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
DEVICE_PATH = "/onvif/device_service"
MAX_REPLY_BYTES = 1 << 20  # the largest capture is ~30 kB; a GetProfiles of 32 profiles fits easily
_AUTH_SUBCODES = frozenset({"NotAuthorized", "FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    ns: str
    params: str = ""  # the request element's content, fixed per operation

    @property
    def action(self) -> str:
        return f"{self.ns}/{self.name}"


GET_SYSTEM_DATE_AND_TIME = Operation("GetSystemDateAndTime", DEVICE_NS)
GET_DEVICE_INFORMATION = Operation("GetDeviceInformation", DEVICE_NS)
GET_SERVICES = Operation("GetServices", DEVICE_NS, "<IncludeCapability>false</IncludeCapability>")
GET_CAPABILITIES = Operation("GetCapabilities", DEVICE_NS, "<Category>All</Category>")
GET_PROFILES = Operation("GetProfiles", MEDIA_NS)
GET_VIDEO_ENCODER_CONFIGURATIONS = Operation("GetVideoEncoderConfigurations", MEDIA_NS)
MEDIA2_NS = "http://www.onvif.org/ver20/media/wsdl"


def get_snapshot_uri(profile_token: str) -> Operation:
    return Operation("GetSnapshotUri", MEDIA_NS, f"<ProfileToken>{escape(profile_token)}</ProfileToken>")


def get_stream_uri(profile_token: str) -> Operation:
    """Media GetStreamUri for RTSP over TCP (RTP-Unicast + RTSP: what every camera answers)."""
    setup = ('<StreamSetup><Stream xmlns="http://www.onvif.org/ver10/schema">RTP-Unicast</Stream>'
             '<Transport xmlns="http://www.onvif.org/ver10/schema"><Protocol>RTSP</Protocol></Transport>'
             '</StreamSetup>')
    return Operation("GetStreamUri", MEDIA_NS, f"{setup}<ProfileToken>{escape(profile_token)}</ProfileToken>")


def created_timestamp(offset: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_header(auth: OnvifAuth, offset: float) -> str:
    nonce = os.urandom(16)
    created = created_timestamp(offset)
    return (f'<s:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
            f"<wsse:Username>{escape(auth.username)}</wsse:Username>"
            f'<wsse:Password Type="{DIGEST_TYPE}">{password_digest(nonce, created, auth.password)}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{NONCE_TYPE}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>")


def request(op: Operation, auth: OnvifAuth | None, offset: float = 0.0) -> bytes:
    """The SOAP 1.2 envelope of op, signed when auth is given."""
    header = security_header(auth, offset) if auth is not None else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP12}">{header}<s:Body>'
            f'<{op.name} xmlns="{op.ns}">{op.params}</{op.name}></s:Body></s:Envelope>').encode()


# ----------------------------------------------------------------------------- replies


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _fault_parts(fault: etree._Element) -> tuple[list[str], str]:
    """(subcode local names, reason text) of a SOAP 1.2 or 1.1 Fault."""
    subcodes: list[str] = []
    sub = fault.find("{*}Code/{*}Subcode")
    while sub is not None:
        value = (sub.findtext("{*}Value") or "").strip()
        if value:
            subcodes.append(value.rsplit(":", 1)[-1])
        sub = sub.find("{*}Subcode")
    reason = fault.findtext("{*}Reason/{*}Text") or fault.findtext("faultstring") or ""
    code11 = (fault.findtext("faultcode") or "").strip().rsplit(":", 1)[-1]
    if code11 and code11 not in ("Client", "Server", "VersionMismatch", "MustUnderstand"):
        subcodes.append(code11)
    return subcodes, reason.strip()


def fault_error(op: str, fault: etree._Element) -> OnvifError:
    subcodes, message = _fault_parts(fault)
    if _AUTH_SUBCODES & set(subcodes):
        return OnvifAuthError(f"{op}: not authorized ({'/'.join(subcodes)})")
    try:
        quirks.raise_for_not_supported(subcodes, message)
    except OnvifError as not_supported:
        return not_supported
    return OnvifError(f"{op}: SOAP fault {'/'.join(subcodes) or 'no subcode'}: {message[:120]}")


def response_element(op: Operation, status: int, body: bytes) -> etree._Element:
    """The reply's response element, or the OnvifError the reply amounts to."""
    if status in (401, 403) and not body.strip():
        raise OnvifAuthError(f"{op.name}: HTTP {status}")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        if status in (401, 403):
            raise OnvifAuthError(f"{op.name}: HTTP {status}") from None
        if status != 200:
            raise OnvifError(f"{op.name}: HTTP {status}") from None
        raise OnvifMalformedError(f"{op.name}: invalid XML in the reply") from None
    soap_body = root.find(f"{{{SOAP12}}}Body")
    if soap_body is None:
        soap_body = root.find(f"{{{SOAP11}}}Body")
    if soap_body is None:
        raise OnvifMalformedError(f"{op.name}: no SOAP Body in the reply")
    children = [c for c in soap_body if isinstance(c.tag, str)]
    if not children:
        raise OnvifMalformedError(f"{op.name}: empty SOAP body, expected {op.name}Response")
    got = etree.QName(children[0])
    if got.localname == "Fault":
        raise fault_error(op.name, children[0])
    if status in (401, 403):
        raise OnvifAuthError(f"{op.name}: HTTP {status}")
    if status != 200:
        raise OnvifError(f"{op.name}: HTTP {status} without a SOAP fault")
    if (got.namespace, got.localname) != (op.ns, f"{op.name}Response"):
        raise OnvifMalformedError(
            f"{op.name}: the reply is a {got.localname} ({got.namespace}), not {op.name}Response")
    return children[0]


def _typed(op: str, el: etree._Element | None, path: str, cast: Callable[[str], T]) -> T | None:
    text = el.findtext(path) if el is not None else None
    if text is None or not text.strip():
        return None
    try:
        return cast(text.strip())
    except ValueError:
        raise OnvifMalformedError(f"{op}: {path.replace('{*}', '')} is not a number: {text.strip()[:40]!r}") from None


def _text(el: etree._Element | None, path: str) -> str:
    return (el.findtext(path) or "").strip() if el is not None else ""


def _bool(text: str) -> bool:
    return text.strip() in ("true", "1")


def _date_tuple(op: str, el: etree._Element | None) -> DateTuple | None:
    if el is None:
        return None
    date, clock = el.find("{*}Date"), el.find("{*}Time")
    if date is None or clock is None:
        raise OnvifMalformedError(f"{op}: date/time without Date or Time")
    parts = [_typed(op, date, f"{{*}}{f}", int) for f in ("Year", "Month", "Day")]
    parts += [_typed(op, clock, f"{{*}}{f}", int) for f in ("Hour", "Minute", "Second")]
    if any(p is None for p in parts):
        raise OnvifMalformedError(f"{op}: date/time with an empty field")
    y, mo, d, h, mi, s = (int(p or 0) for p in parts)
    return (y, mo, d, h, mi, s)


def parse_clock(reply: etree._Element, asked_at: float) -> CameraClock:
    op = GET_SYSTEM_DATE_AND_TIME.name
    sdt = reply.find("{*}SystemDateAndTime")
    if sdt is None:
        raise OnvifMalformedError(f"{op}: empty reply")
    return CameraClock(
        utc=_date_tuple(op, sdt.find("{*}UTCDateTime")),
        local=_date_tuple(op, sdt.find("{*}LocalDateTime")),
        tz=_text(sdt, "{*}TimeZone/{*}TZ"),
        daylight_savings=_bool(_text(sdt, "{*}DaylightSavings")),
        asked_at=asked_at,
    )


def parse_device_information(reply: etree._Element) -> DeviceInfo:
    return DeviceInfo(*(_text(reply, f"{{*}}{f}") for f in
                        ("Manufacturer", "Model", "FirmwareVersion", "SerialNumber", "HardwareId")))


def parse_encoder(op: str, vec: etree._Element | None) -> EncoderConfig | None:
    if vec is None:
        return None
    bitrate, unlimited = quirks.bitrate_limit_kbps(_typed(op, vec, "{*}RateControl/{*}BitrateLimit", int))
    return EncoderConfig(
        token=(vec.get("token") or "").strip(),
        encoding=_text(vec, "{*}Encoding"),
        width=quirks.picture_side(_typed(op, vec, "{*}Resolution/{*}Width", int)),
        height=quirks.picture_side(_typed(op, vec, "{*}Resolution/{*}Height", int)),
        frame_rate=quirks.frame_rate_limit(_typed(op, vec, "{*}RateControl/{*}FrameRateLimit", float)),
        bitrate_kbps=bitrate,
        bitrate_unlimited=unlimited,
    )


def parse_profiles(reply: etree._Element) -> list[Profile]:
    op = GET_PROFILES.name
    return [Profile(token=(p.get("token") or "").strip(), name=_text(p, "{*}Name"),
                    encoder=parse_encoder(op, p.find("{*}VideoEncoderConfiguration")))
            for p in reply.iterfind("{*}Profiles")]


def parse_encoder_configurations(reply: etree._Element) -> list[EncoderConfig]:
    op = GET_VIDEO_ENCODER_CONFIGURATIONS.name
    return [c for c in (parse_encoder(op, v) for v in reply.iterfind("{*}Configurations")) if c is not None]


def media_path_from_services(reply: etree._Element, namespace: str = MEDIA_NS) -> str | None:
    for service in reply.iterfind("{*}Service"):
        if _text(service, "{*}Namespace") == namespace:
            return xaddr_path(_text(service, "{*}XAddr"))
    return None


def parse_snapshot_uri(reply: etree._Element) -> str:
    return _text(reply, "{*}MediaUri/{*}Uri")


parse_stream_uri = parse_snapshot_uri  # both answer a MediaUri


def media_path_from_capabilities(reply: etree._Element) -> str | None:
    return xaddr_path(_text(reply, "{*}Capabilities/{*}Media/{*}XAddr"))


def xaddr_path(xaddr: str) -> str | None:
    """Path (and query) of an advertised XAddr. Cameras advertise whatever address they were set
    up with (the captures' XAddrs are 192.168.x LAN addresses); we always talk to the inventory's
    ip:port, so only the path is kept."""
    if not xaddr:
        return None
    try:
        parts = urlsplit(xaddr.split()[0])  # a space-separated list: the first one
    except ValueError:
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")

"""How each vendor's ONVIF server words its replies.

Evidence (read-only captures in shared/fixtures/onvif, never copied into the project):
- hikvision: easy_onvif_oem-hikvision_enp1a14-ir-25x — gSOAP-style ``env:`` envelope with a long
  namespace list and no Header, tokens ``Profile_1``/``VideoEncoderToken_1``, ``/onvif/Media``,
  ``/Streaming/Channels/101`` stream and ``/onvif-http/snapshot?Profile_1`` snapshot URIs.
- dahua: go2rtc_dahua — compact single-line ``s:`` envelope declaring only the namespaces it
  uses, ``standalone="yes"``, empty ``<s:Header/>``, ``*_service`` paths,
  ``/cam/realmonitor?channel=1&subtype=N&unicast=true&proto=Onvif``.
- generic (uniview and anything else): easy_onvif_ipd-h4k8m05-bs — stock gSOAP ``SOAP-ENV:``
  envelope with an empty Header.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DIALECTS", "NS", "Dialect", "dialect_for"]

NS = {
    "sc": "http://www.w3.org/2003/05/soap-encoding",
    "soapenc": "http://www.w3.org/2003/05/soap-encoding",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsd": "http://www.w3.org/2001/XMLSchema",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tr2": "http://www.onvif.org/ver20/media/wsdl",
    "timg": "http://www.onvif.org/ver20/imaging/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "tan": "http://www.onvif.org/ver20/analytics/wsdl",
    "tmd": "http://www.onvif.org/ver10/deviceIO/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
    "tns1": "http://www.onvif.org/ver10/topics",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsa5": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "extxsd": "http://www.onvifext.com/onvif/ext/ver10/schema",
}
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    xml_decl: str
    env: str  # prefix of the SOAP envelope namespace
    prefixes: tuple[str, ...]  # declared on every envelope (besides ``env``)
    declare_used_only: bool  # Dahua: declare only tt + the prefixes the body uses
    header: str  # text between <Envelope> and <Body> ("" for none); {env} is the prefix
    indent: bool  # gSOAP pretty-prints with tabs; Dahua sends one line
    server: str  # HTTP Server header
    manufacturer: str  # "" → the vendor name as given
    hardware_id: str
    paths: dict[str, str]  # service -> path (device, media, events, imaging, deviceio, analytics)
    profile_tokens: tuple[str, ...]
    profile_names: tuple[str, ...]
    encoder_tokens: tuple[str, ...]
    video_source_config: tuple[str, str, str]  # token, name, source token
    quality: str
    session_timeout: str
    multicast: tuple[str, int, int]  # address, port, TTL
    invalid_after_connect: bool
    stream_uri_suffix: str  # appended to the RTSP path; {token} = profile token
    snapshot_path: str  # {token} = profile token, {index} = 0-based stream index
    timezone: str
    versions: tuple[tuple[int, int], ...]
    max_profiles: int


HIKVISION = Dialect(
    name="hikvision",
    xml_decl='<?xml version="1.0" encoding="UTF-8"?>\n',
    env="env",
    prefixes=("soapenc", "xsi", "xs", "tt", "tds", "trt", "timg", "tev", "tptz", "tan", "ter", "tns1",
              "tmd", "wsnt", "wstop", "wsa", "extxsd", "tr2"),
    declare_used_only=False,
    header="",
    indent=True,
    server="App-webs/",
    manufacturer="HIKVISION",
    hardware_id="88",
    paths={"device": "/onvif/device_service", "media": "/onvif/Media", "events": "/onvif/Events",
           "imaging": "/onvif/Imaging", "deviceio": "/onvif/DeviceIO", "analytics": "/onvif/Analytics"},
    profile_tokens=("Profile_1", "Profile_2", "Profile_3"),
    profile_names=("mainStream", "subStream", "thirdStream"),
    encoder_tokens=("VideoEncoderToken_1", "VideoEncoderToken_2", "VideoEncoderToken_3"),
    video_source_config=("VideoSourceToken", "VideoSourceConfig", "VideoSource_1"),
    quality="3.000000",
    session_timeout="PT5S",
    multicast=("0.0.0.0", 8860, 128),
    invalid_after_connect=False,
    stream_uri_suffix="?transportmode=unicast&profile={token}",
    snapshot_path="/onvif-http/snapshot?{token}",
    timezone="CST-8:00:00",
    versions=((16, 12), (2, 60), (2, 40), (2, 20), (2, 10), (2, 0)),
    max_profiles=10,
)

DAHUA = Dialect(
    name="dahua",
    xml_decl='<?xml version="1.0" encoding="utf-8" standalone="yes" ?>',
    env="s",
    prefixes=("sc",),
    declare_used_only=True,
    header="<{env}:Header/>",
    indent=False,
    server="",
    manufacturer="Dahua",
    hardware_id="1.00",
    paths={"device": "/onvif/device_service", "media": "/onvif/media_service",
           "events": "/onvif/event_service", "imaging": "/onvif/imaging_service",
           "deviceio": "/onvif/deviceIO_service", "analytics": "/onvif/analytics_service"},
    profile_tokens=("MediaProfile00000", "MediaProfile00001", "MediaProfile00002"),
    profile_names=("MediaProfile_Channel1_MainStream", "MediaProfile_Channel1_SubStream1",
                   "MediaProfile_Channel1_SubStream2"),
    encoder_tokens=("VideoEncoderToken00000", "VideoEncoderToken00001", "VideoEncoderToken00002"),
    video_source_config=("00000", "VideoSourceConfig", "00000"),
    quality="4.000000",
    session_timeout="PT60S",
    multicast=("224.1.2.4", 40008, 64),
    invalid_after_connect=True,
    stream_uri_suffix="&unicast=true&proto=Onvif",
    snapshot_path="/onvifsnapshot/media_service/snapshot?channel=1&subtype={index}",
    timezone="CST-8:00:00",
    versions=((2, 0), (2, 10), (2, 20), (2, 30), (2, 40), (2, 42), (16, 12), (18, 6), (18, 12)),
    max_profiles=6,
)

GENERIC = Dialect(
    name="generic",
    xml_decl='<?xml version="1.0" encoding="UTF-8"?>\n',
    env="SOAP-ENV",
    prefixes=("soapenc", "xsi", "xsd", "wsa5", "wsse", "wsu", "tt", "wstop", "tev", "wsnt", "tds",
              "timg", "tmd", "tptz", "trt", "tns1", "ter", "tan"),
    declare_used_only=False,
    header="<{env}:Header></{env}:Header>",
    indent=True,
    server="gSOAP/2.8",
    manufacturer="",
    hardware_id="1.0",
    paths={"device": "/onvif/device_service", "media": "/onvif/media_service",
           "events": "/onvif/event_service", "imaging": "/onvif/image_service",
           "deviceio": "/onvif/deviceio_service", "analytics": "/onvif/analytics_service"},
    profile_tokens=("MainStream", "SubStream", "ThirdStream"),
    profile_names=("MainStream", "SubStream", "ThirdStream"),
    encoder_tokens=("H264_MAJOR_CH0", "H264_MINOR_CH0", "H264_THIRD_CH0"),
    video_source_config=("VIDEO_CH0", "VIDEO_CH0", "VI_CH0"),
    quality="2",
    session_timeout="PT300S",
    multicast=("224.0.0.88", 8888, 255),
    invalid_after_connect=False,
    stream_uri_suffix="",
    snapshot_path="/snapshot/{index}.jpg",
    timezone="CST-8",
    versions=((2, 40), (2, 20), (2, 10), (2, 0)),
    max_profiles=2,
)

DIALECTS = {"hikvision": HIKVISION, "dahua": DAHUA}

_GENERIC_MANUFACTURER = {"uniview": "UNIVIEW"}


def dialect_for(vendor: str) -> Dialect:
    return DIALECTS.get(vendor, GENERIC)


def manufacturer(dialect: Dialect, vendor: str) -> str:
    return dialect.manufacturer or _GENERIC_MANUFACTURER.get(vendor, vendor.upper())

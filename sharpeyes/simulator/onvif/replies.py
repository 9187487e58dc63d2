"""Reply bodies and SOAP 1.2 envelopes/faults, written from the ONVIF schema (devicemgmt/media WSDL).

Trees are plain tuples rendered to text with the literal prefixes each dialect declares, so the
wire text looks like the vendor's (prefixes, indentation, declaration) at low cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from sharpeyes.simulator.onvif.dialects import NS, Dialect, manufacturer
from sharpeyes.simulator.rtsp import stream_path
from sharpeyes.simulator.state import DeviceState, StreamConfig

__all__ = ["Endpoint", "Fault", "Node", "envelope", "fault_envelope"]

CHINA_UTC_OFFSET = dt.timedelta(hours=8)


@dataclass(slots=True)
class Node:
    tag: str  # "prefix:local"
    text: str | None = None
    children: list[Node] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)


def n(tag: str, *children: Node | str | int | bool, **attrs: str | int) -> Node:
    """Build a node: string/number/bool arguments become its text, Node arguments its children."""
    node = Node(tag, attrs={k: str(v) for k, v in attrs.items()})
    for child in children:
        if isinstance(child, Node):
            node.children.append(child)
        elif isinstance(child, bool):
            node.text = "true" if child else "false"
        else:
            node.text = str(child)
    return node


def _render(node: Node, out: list[str], indent: bool, depth: int, used: set[str]) -> None:
    used.add(node.tag.partition(":")[0])
    pad = "\n" + "\t" * depth if indent else ""
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in node.attrs.items())
    out.append(f"{pad}<{node.tag}{attrs}>")
    if node.children:
        for child in node.children:
            _render(child, out, indent, depth + 1, used)
        out.append(f"{pad}</{node.tag}>")
    else:
        out.append(f"{escape(node.text or '')}</{node.tag}>")


def envelope(dialect: Dialect, body: Node) -> bytes:
    """A full SOAP 1.2 envelope around ``body`` in the dialect's wording."""
    out: list[str] = []
    used: set[str] = set()
    _render(body, out, dialect.indent, 2, used)
    env = dialect.env
    if dialect.declare_used_only:
        prefixes = [p for p in ("tt", *sorted(used)) if p in NS]
        prefixes = [*dialect.prefixes, *dict.fromkeys(prefixes)]
    else:
        prefixes = list(dialect.prefixes)
    sep = "\n\t" if dialect.indent else " "
    decls = sep.join([f'xmlns:{env}="http://www.w3.org/2003/05/soap-envelope"',
                      *(f'xmlns:{p}="{NS[p]}"' for p in prefixes)])
    nl, tab = ("\n", "\t") if dialect.indent else ("", "")
    header = (nl + tab + dialect.header.format(env=env)) if dialect.header else ""
    text = (f"{dialect.xml_decl}<{env}:Envelope {decls}>{header}{nl}{tab}<{env}:Body>{''.join(out)}"
            f"{nl}{tab}</{env}:Body>{nl}</{env}:Envelope>")
    return text.encode()


# ---------------------------------------------------------------- faults

@dataclass(frozen=True, slots=True)
class Fault:
    """A SOAP 1.2 fault: code (Sender|Receiver), ONVIF subcodes (``ter:…``), reason, HTTP status."""

    code: str
    subcodes: tuple[str, ...]
    reason: str

    @property
    def http_status(self) -> int:  # SOAP 1.2 HTTP binding: Sender -> 400, Receiver -> 500
        return 400 if self.code in ("Sender", "VersionMismatch", "MustUnderstand") else 500


NOT_AUTHORIZED = Fault("Sender", ("ter:NotAuthorized",), "Sender not Authorized")
ACTION_NOT_SUPPORTED = Fault("Receiver", ("ter:ActionNotSupported",), "Action Not Implemented")
OPERATION_PROHIBITED = Fault("Sender", ("ter:OperationProhibited",), "The requested operation is prohibited")
NO_PROFILE = Fault("Sender", ("ter:InvalidArgVal", "ter:NoProfile"),
                   "The requested profile token does not exist")
NO_CONFIG = Fault("Sender", ("ter:InvalidArgVal", "ter:NoConfig"),
                  "The requested configuration does not exist")
WELL_FORMED = Fault("Sender", ("ter:WellFormed",), "The SOAP message is not well-formed")
VERSION_MISMATCH = Fault("VersionMismatch", (), "The SOAP envelope namespace is not SOAP 1.2")


def fault_envelope(dialect: Dialect, fault: Fault) -> bytes:
    env = dialect.env
    code = n(f"{env}:Code", n(f"{env}:Value", f"{env}:{fault.code}"))
    parent = code
    for sub in fault.subcodes:
        node = n(f"{env}:Subcode", n(f"{env}:Value", sub))
        parent.children.append(node)
        parent = node
    reason = n(f"{env}:Reason", n(f"{env}:Text", fault.reason, **{"xml:lang": "en"}))
    return envelope(dialect, n(f"{env}:Fault", code, reason))


# ---------------------------------------------------------------- device service

@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the camera is reached (used to build the XAddrs and URIs it advertises)."""

    ip: str
    http_port: int
    rtsp_port: int

    def http(self, path: str) -> str:
        port = "" if self.http_port == 80 else f":{self.http_port}"
        return f"http://{self.ip}{port}{path}"

    def rtsp(self, path: str) -> str:
        return f"rtsp://{self.ip}:{self.rtsp_port}{path}"


def _date_time(tag: str, when: dt.datetime) -> Node:
    return n(tag,
             n("tt:Time", n("tt:Hour", when.hour), n("tt:Minute", when.minute), n("tt:Second", when.second)),
             n("tt:Date", n("tt:Year", when.year), n("tt:Month", when.month), n("tt:Day", when.day)))


def get_system_date_and_time(state: DeviceState, d: Dialect, now_wall: float | None = None) -> Node:
    utc = dt.datetime.fromtimestamp(int(state.clock(now_wall)), dt.UTC)
    return n("tds:GetSystemDateAndTimeResponse", n(
        "tds:SystemDateAndTime", n("tt:DateTimeType", "NTP"), n("tt:DaylightSavings", False),
        n("tt:TimeZone", n("tt:TZ", d.timezone)),
        _date_time("tt:UTCDateTime", utc), _date_time("tt:LocalDateTime", utc + CHINA_UTC_OFFSET)))


def get_device_information(state: DeviceState, d: Dialect) -> Node:
    return n("tds:GetDeviceInformationResponse",
             n("tds:Manufacturer", manufacturer(d, state.vendor)), n("tds:Model", state.model),
             n("tds:FirmwareVersion", state.firmware), n("tds:SerialNumber", state.serial),
             n("tds:HardwareId", d.hardware_id))


def _device_capabilities(d: Dialect, ep: Endpoint) -> Node:
    versions = [n("tt:SupportedVersions", n("tt:Major", major), n("tt:Minor", minor))
                for major, minor in d.versions]
    return n("tt:Device", n("tt:XAddr", ep.http(d.paths["device"])),
             n("tt:Network", n("tt:IPFilter", True), n("tt:ZeroConfiguration", False),
               n("tt:IPVersion6", False), n("tt:DynDNS", False)),
             n("tt:System", n("tt:DiscoveryResolve", False), n("tt:DiscoveryBye", True),
               n("tt:RemoteDiscovery", False), n("tt:SystemBackup", False), n("tt:SystemLogging", True),
               n("tt:FirmwareUpgrade", True), *versions),
             n("tt:IO", n("tt:InputConnectors", 1), n("tt:RelayOutputs", 1)),
             n("tt:Security", *(n(f"tt:{flag}", False) for flag in (
                 "TLS1.1", "TLS1.2", "OnboardKeyGeneration", "AccessPolicyConfig", "X.509Token",
                 "SAMLToken", "KerberosToken", "RELToken"))))


def get_capabilities(state: DeviceState, d: Dialect, ep: Endpoint, categories: Sequence[str]) -> Node:
    every = not categories or "All" in categories
    parts: list[Node] = []
    if every or "Analytics" in categories:
        parts.append(n("tt:Analytics", n("tt:XAddr", ep.http(d.paths["analytics"])),
                       n("tt:RuleSupport", True), n("tt:AnalyticsModuleSupport", True)))
    if every or "Device" in categories:
        parts.append(_device_capabilities(d, ep))
    if every or "Events" in categories:
        parts.append(n("tt:Events", n("tt:XAddr", ep.http(d.paths["events"])),
                       n("tt:WSSubscriptionPolicySupport", True), n("tt:WSPullPointSupport", True),
                       n("tt:WSPausableSubscriptionManagerInterfaceSupport", False)))
    if every or "Imaging" in categories:
        parts.append(n("tt:Imaging", n("tt:XAddr", ep.http(d.paths["imaging"]))))
    if every or "Media" in categories:
        parts.append(n("tt:Media", n("tt:XAddr", ep.http(d.paths["media"])),
                       n("tt:StreamingCapabilities", n("tt:RTPMulticast", True), n("tt:RTP_TCP", True),
                         n("tt:RTP_RTSP_TCP", True)),
                       n("tt:Extension", n("tt:ProfileCapabilities",
                                           n("tt:MaximumNumberOfProfiles", d.max_profiles)))))
    if every:
        parts.append(n("tt:Extension", n(
            "tt:DeviceIO", n("tt:XAddr", ep.http(d.paths["deviceio"])), n("tt:VideoSources", 1),
            n("tt:VideoOutputs", 0), n("tt:AudioSources", 1), n("tt:AudioOutputs", 1),
            n("tt:RelayOutputs", 1))))
    return n("tds:GetCapabilitiesResponse", n("tds:Capabilities", *parts))


_SERVICES = (("device", NS["tds"]), ("media", NS["trt"]), ("events", NS["tev"]),
             ("imaging", NS["timg"]), ("deviceio", NS["tmd"]), ("analytics", NS["tan"]))


def get_services(state: DeviceState, d: Dialect, ep: Endpoint) -> Node:
    major, minor = max(d.versions)
    return n("tds:GetServicesResponse", *(
        n("tds:Service", n("tds:Namespace", ns), n("tds:XAddr", ep.http(d.paths[name])),
          n("tds:Version", n("tt:Major", major), n("tt:Minor", minor)))
        for name, ns in _SERVICES))


def get_network_interfaces(state: DeviceState, d: Dialect) -> Node:
    link = (n("tt:AutoNegotiation", True), n("tt:Speed", 100), n("tt:Duplex", "Full"))
    return n("tds:GetNetworkInterfacesResponse", n(
        "tds:NetworkInterfaces",
        n("tt:Enabled", True),
        n("tt:Info", n("tt:Name", "eth0"), n("tt:HwAddress", state.mac.lower()), n("tt:MTU", 1500)),
        n("tt:Link", n("tt:AdminSettings", *link), n("tt:OperSettings", *link), n("tt:InterfaceType", 6)),
        n("tt:IPv4", n("tt:Enabled", True), n("tt:Config", n("tt:Manual", n("tt:Address", state.ip),
                                                                 n("tt:PrefixLength", 24)),
                                               n("tt:DHCP", False))),
        token="eth0"))


# ---------------------------------------------------------------- media service

def _multicast(d: Dialect, port_offset: int) -> Node:
    address, port, ttl = d.multicast
    return n("tt:Multicast", n("tt:Address", n("tt:Type", "IPv4"), n("tt:IPv4Address", address)),
             n("tt:Port", port + port_offset), n("tt:TTL", ttl), n("tt:AutoStart", False))


def video_encoder_configuration(tag: str, d: Dialect, index: int, stream: StreamConfig) -> Node:
    """A tt:VideoEncoderConfiguration (H.265 reported in Media1 as real cameras do, without <tt:H264>)."""
    codec = [n("tt:H264", n("tt:GovLength", stream.gov_length), n("tt:H264Profile", stream.h264_profile))
             ] if stream.encoding == "H264" else []
    return n(tag, n("tt:Name", d.encoder_tokens[index]), n("tt:UseCount", 1),
             n("tt:Encoding", stream.encoding),
             n("tt:Resolution", n("tt:Width", stream.width), n("tt:Height", stream.height)),
             n("tt:Quality", d.quality),
             n("tt:RateControl", n("tt:FrameRateLimit", stream.frame_rate), n("tt:EncodingInterval", 1),
               n("tt:BitrateLimit", stream.bitrate_kbps)),
             *codec, _multicast(d, 2 * index), n("tt:SessionTimeout", d.session_timeout),
             token=d.encoder_tokens[index])


def _profile(state: DeviceState, d: Dialect, index: int) -> Node:
    stream = state.streams[index]
    main = state.streams[0]
    vsc_token, vsc_name, source = d.video_source_config
    count = len(state.streams)
    parts = [n("tt:Name", d.profile_names[index]),
             n("tt:VideoSourceConfiguration", n("tt:Name", vsc_name), n("tt:UseCount", count),
               n("tt:SourceToken", source), n("tt:Bounds", x=0, y=0, width=main.width, height=main.height),
               token=vsc_token)]
    audio = d.name != "generic"
    if audio:
        parts.append(n("tt:AudioSourceConfiguration", n("tt:Name", "AudioSourceConfig"),
                       n("tt:UseCount", count), n("tt:SourceToken", "AudioSourceChannel"),
                       token="AudioSourceConfigToken"))
    parts.append(video_encoder_configuration("tt:VideoEncoderConfiguration", d, index, stream))
    if audio:
        parts.append(n("tt:AudioEncoderConfiguration", n("tt:Name", "AudioEncoderConfig"),
                       n("tt:UseCount", count), n("tt:Encoding", "G711"), n("tt:Bitrate", 64),
                       n("tt:SampleRate", 8), _multicast(d, 2 * index + 1),
                       n("tt:SessionTimeout", d.session_timeout), token="MainAudioEncoderToken"))
    return n("trt:Profiles", *parts, token=d.profile_tokens[index], fixed="true")


def stream_count(state: DeviceState, d: Dialect) -> int:
    return min(len(state.streams), len(d.profile_tokens))


def get_profiles(state: DeviceState, d: Dialect) -> Node:
    return n("trt:GetProfilesResponse", *(_profile(state, d, i) for i in range(stream_count(state, d))))


def get_profile(state: DeviceState, d: Dialect, index: int) -> Node:
    node = _profile(state, d, index)
    node.tag = "trt:Profile"
    return n("trt:GetProfileResponse", node)


def get_video_encoder_configurations(state: DeviceState, d: Dialect) -> Node:
    return n("trt:GetVideoEncoderConfigurationsResponse", *(
        video_encoder_configuration("trt:Configurations", d, i, state.streams[i])
        for i in range(stream_count(state, d))))


def get_video_encoder_configuration(state: DeviceState, d: Dialect, index: int) -> Node:
    return n("trt:GetVideoEncoderConfigurationResponse",
             video_encoder_configuration("trt:Configuration", d, index, state.streams[index]))


def _media_uri(tag: str, uri: str, d: Dialect, timeout: str) -> Node:
    return n(tag, n("trt:MediaUri", n("tt:Uri", uri), n("tt:InvalidAfterConnect", d.invalid_after_connect),
                    n("tt:InvalidAfterReboot", d.invalid_after_connect), n("tt:Timeout", timeout)))


def get_stream_uri(state: DeviceState, d: Dialect, ep: Endpoint, index: int) -> Node:
    suffix = d.stream_uri_suffix.format(token=d.profile_tokens[index])
    uri = ep.rtsp(stream_path(state.vendor, index) + suffix)
    return _media_uri("trt:GetStreamUriResponse", uri, d, "PT60S" if d.name == "hikvision" else "PT0S")


def get_snapshot_uri(state: DeviceState, d: Dialect, ep: Endpoint, index: int) -> Node:
    path = d.snapshot_path.format(token=d.profile_tokens[index], index=index)
    return _media_uri("trt:GetSnapshotUriResponse", ep.http(path), d, "PT0S")

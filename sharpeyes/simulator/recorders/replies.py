"""Reply bodies of the three recorder dialects, written from the vendors' formats (ISAPI XML, Dahua
key=value text, ONVIF SOAP 1.2). Times: ``t`` is the recorder's own clock (true time + its drift)."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from lxml import etree

TZ = ZoneInfo("Asia/Shanghai")
HIK_NS = "http://www.hikvision.com/ver20/XMLSchema"


def hik_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def isapi_status(clock: float) -> str:
    local = dt.datetime.fromtimestamp(clock, TZ).isoformat(timespec="seconds")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<DeviceStatus version="2.0" xmlns="{HIK_NS}">\r\n'
            f"<currentDeviceTime>{local}</currentDeviceTime>\r\n<deviceUpTime>86400</deviceUpTime>\r\n"
            "</DeviceStatus>\r\n")


def isapi_storage(failed: bool) -> str:
    status = "error" if failed else "ok"
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<storage version="1.0" xmlns="{HIK_NS}">\n<hddList>\n'
            f'<hdd version="1.0" xmlns="{HIK_NS}">\n<id>1</id><hddName>hdd1</hddName><hddPath></hddPath>'
            f"<hddType>SATA</hddType><status>{status}</status>\n<capacity>7630885</capacity>"
            "<freeSpace>0</freeSpace><property>RW</property><manufacturer>ST8000VX004</manufacturer>\n</hdd>\n"
            "</hddList>\n<nasList>\n</nasList>\n<workMode>group</workMode>\n</storage>\n")


def isapi_search(search_id: str, track: int, matches: list[tuple[float, float]], more: bool, ip: str) -> str:
    status = "MORE" if more else ("OK" if matches else "NO MATCHES")
    items = "".join(
        "<searchMatchItem>\n<sourceID>{0000000000-0000-0000-0000-000000000000}</sourceID>\n"
        f"<trackID>{track}</trackID>\n<timeSpan>\n<startTime>{hik_time(s)}</startTime>\n"
        f"<endTime>{hik_time(e)}</endTime>\n</timeSpan>\n<mediaSegmentDescriptor>\n<contentType>video</contentType>\n"
        f"<codecType>H.264-BP</codecType>\n<playbackURI>rtsp://{ip}/Streaming/tracks/{track}?starttime="
        f"{hik_time(s)}&amp;endtime={hik_time(e)}</playbackURI>\n</mediaSegmentDescriptor>\n<metadataMatches>\n"
        "<metadataDescriptor>recordType.meta.hikvision.com/timing</metadataDescriptor>\n</metadataMatches>\n"
        "</searchMatchItem>\n" for s, e in matches)
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<CMSearchResult version="2.0" xmlns="{HIK_NS}">\n'
            f"<searchID>{search_id}</searchID>\n<responseStatus>true</responseStatus>\n"
            f"<responseStatusStrg>{status}</responseStatusStrg>\n<numOfMatches>{len(matches)}</numOfMatches>\n"
            f"<matchList>\n{items}</matchList>\n</CMSearchResult>\n")


def iso_time(text: str) -> float:
    """xs:dateTime as ISAPI and ONVIF clients send it (``Z`` or an offset)."""
    t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return (t if t.tzinfo else t.replace(tzinfo=TZ)).timestamp()


def dahua_time(t: float) -> str:
    return dt.datetime.fromtimestamp(t, TZ).strftime("%Y-%m-%d %H:%M:%S")


def dahua_parse_time(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TZ).timestamp()


def dahua_lines(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{k}={v}\r\n" for k, v in pairs)


def dahua_storage(failed: bool) -> str:
    return dahua_lines([
        ("list.info[0].Detail[0].IsError", "true" if failed else "false"),
        ("list.info[0].Detail[0].Path", "/dev/sda0"),
        ("list.info[0].Detail[0].TotalBytes", "7999999967232.000000"),
        ("list.info[0].Detail[0].Type", "ReadWrite"),
        ("list.info[0].Detail[0].UsedBytes", "7999999967232.000000"),
        ("list.info[0].Name", "/dev/sda"),
        ("list.info[0].State", "Error" if failed else "Success"),
    ])


def dahua_files(channel: int, files: list[tuple[float, float]]) -> str:
    pairs = [("found", str(len(files)))]
    for i, (s, e) in enumerate(files):
        day = dahua_time(s)[:10]
        pairs += [(f"items[{i}].Channel", str(channel - 1)), (f"items[{i}].Disk", "0"),
                  (f"items[{i}].Duration", str(int(e - s))), (f"items[{i}].EndTime", dahua_time(e)),
                  (f"items[{i}].FilePath", f"/mnt/dvr/{day}/{channel - 1}/dav/{dahua_time(s)[11:13]}/x.dav"),
                  (f"items[{i}].StartTime", dahua_time(s)), (f"items[{i}].Type", "dav")]
    return dahua_lines(pairs)


SOAP = "http://www.w3.org/2003/05/soap-envelope"
NSMAP = {"env": SOAP, "tt": "http://www.onvif.org/ver10/schema", "tse": "http://www.onvif.org/ver10/search/wsdl",
         "tds": "http://www.onvif.org/ver10/device/wsdl", "wsnt": "http://docs.oasis-open.org/wsn/b-2",
         "tns1": "http://www.onvif.org/ver10/topics"}


def soap(body: str) -> str:
    ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NSMAP.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {ns}><env:Body>{body}</env:Body></env:Envelope>'


def onvif_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def onvif_clock(clock: float) -> str:
    g = time.gmtime(clock)
    return soap("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
                "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>"
                f"<tt:UTCDateTime><tt:Time><tt:Hour>{g.tm_hour}</tt:Hour><tt:Minute>{g.tm_min}</tt:Minute>"
                f"<tt:Second>{g.tm_sec}</tt:Second></tt:Time><tt:Date><tt:Year>{g.tm_year}</tt:Year>"
                f"<tt:Month>{g.tm_mon}</tt:Month><tt:Day>{g.tm_mday}</tt:Day></tt:Date></tt:UTCDateTime>"
                "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")


def onvif_fault(code: str, subcode: str, reason: str) -> str:
    return soap(f"<env:Fault><env:Code><env:Value>env:{code}</env:Value><env:Subcode><env:Value>{subcode}"
                f"</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">{reason}</env:Text>"
                "</env:Reason></env:Fault>")


def state_event(token: str, t: float, present: bool, start: bool) -> str:
    when = onvif_time(t)
    return (f"<tt:Result><tt:RecordingToken>{token}</tt:RecordingToken><tt:TrackToken>VIDEO001</tt:TrackToken>"
            f"<tt:Time>{when}</tt:Time><tt:Event><wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/"
            "topicExpression/ConcreteSet\">tns1:RecordingHistory/Track/State</wsnt:Topic><wsnt:Message>"
            f"<tt:Message UtcTime=\"{when}\"><tt:Source><tt:SimpleItem Name=\"RecordingToken\" Value=\"{token}\"/>"
            "<tt:SimpleItem Name=\"Track\" Value=\"VIDEO001\"/></tt:Source><tt:Data>"
            f"<tt:SimpleItem Name=\"IsDataPresent\" Value=\"{'true' if present else 'false'}\"/></tt:Data>"
            f"</tt:Message></wsnt:Message></tt:Event><tt:StartStateEvent>{'true' if start else 'false'}"
            "</tt:StartStateEvent></tt:Result>")


def body_op(raw: bytes) -> etree._Element | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError:
        return None
    body = root.find(f"{{{SOAP}}}Body")
    return body[0] if body is not None and len(body) else None


def child_text(el: etree._Element, name: str) -> str:
    for c in el.iter():
        if isinstance(c.tag, str) and etree.QName(c).localname == name:
            return (c.text or "").strip()
    return ""

"""ONVIF Profile G recording search. No public capture of search replies exists that we could find,
so the replies here are built from the published schema (onvif/specs wsdl/ver10/search.wsdl and
schema/onvif.xsd; see SOURCES.tsv); the device clock uses real GetSystemDateAndTime captures."""

from __future__ import annotations

import datetime as dt

from sharpeyes.recording import onvif_g
from sharpeyes.recording.job import Job, Limits
from sharpeyes.recording.transport import Reply
from tests.recording.recording_testlib import fake, ok

ENV = ('<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
       'xmlns:tse="http://www.onvif.org/ver10/search/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" '
       'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tns1="http://www.onvif.org/ver10/topics">'
       "<env:Body>{}</env:Body></env:Envelope>")


def ts(s: str) -> float:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def state(token: str, when: str, present: bool, start: bool = False) -> str:
    return (f"<tt:Result><tt:RecordingToken>{token}</tt:RecordingToken><tt:TrackToken>VIDEO001</tt:TrackToken>"
            f"<tt:Time>{when}</tt:Time><tt:Event><wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/"
            f"ConcreteSet\">tns1:RecordingHistory/Track/State</wsnt:Topic><wsnt:Message><tt:Message UtcTime=\"{when}\">"
            "<tt:Source><tt:SimpleItem Name=\"RecordingToken\" Value=\"" + token + "\"/></tt:Source>"
            f"<tt:Data><tt:SimpleItem Name=\"IsDataPresent\" Value=\"{str(present).lower()}\"/></tt:Data>"
            f"</tt:Message></wsnt:Message></tt:Event><tt:StartStateEvent>{str(start).lower()}</tt:StartStateEvent>"
            "</tt:Result>")


def recorder(fixtures_dir, events: dict[str, list[str]], endless: bool = False):  # type: ignore[no-untyped-def]
    clock = (fixtures_dir / "onvif/easy_onvif_generic_gx728mf-ir28/GetSystemDateAndTime.xml").read_bytes()
    recs = "".join(f"<tt:RecordingInformation><tt:RecordingToken>{tok}</tt:RecordingToken>"
                   f"<tt:Source><tt:SourceId>{tok}</tt:SourceId><tt:Name>{tok}</tt:Name><tt:Location/><tt:Description/>"
                   "<tt:Address/></tt:Source><tt:EarliestRecording>2026-11-01T00:00:00Z</tt:EarliestRecording>"
                   "<tt:LatestRecording>2026-12-07T00:00:00Z</tt:LatestRecording><tt:Content/>"
                   "<tt:RecordingStatus>Recording</tt:RecordingStatus></tt:RecordingInformation>"
                   for tok in ("REC_10", "REC_2", "REC_1"))
    sessions: dict[str, str] = {}

    def route(m: str, p: str, q: object, b: bytes) -> Reply:
        body = b.decode()
        if "GetSystemDateAndTime" in body:
            return ok(clock)
        if "GetRecordingSummary" in body:
            return ok(ENV.format("<tse:GetRecordingSummaryResponse><tse:Summary><tt:DataFrom>2026-11-01T00:00:00Z"
                                 "</tt:DataFrom><tt:DataUntil>2026-12-07T00:00:00Z</tt:DataUntil><tt:NumberRecordings>3"
                                 "</tt:NumberRecordings></tse:Summary></tse:GetRecordingSummaryResponse>"))
        if "<tse:FindRecordings>" in body:
            return ok(ENV.format("<tse:FindRecordingsResponse><tse:SearchToken>R</tse:SearchToken>"
                                 "</tse:FindRecordingsResponse>"))
        if "<tse:GetRecordingSearchResults>" in body:
            return ok(ENV.format("<tse:GetRecordingSearchResultsResponse><tse:ResultList><tt:SearchState>Completed"
                                 f"</tt:SearchState>{recs}</tse:ResultList></tse:GetRecordingSearchResultsResponse>"))
        if "<tse:FindEvents>" in body:
            tok = body.split("<tt:IncludedRecordings>")[1].split("<")[0]
            sessions[f"E-{tok}"] = tok
            return ok(ENV.format(f"<tse:FindEventsResponse><tse:SearchToken>E-{tok}</tse:SearchToken>"
                                 "</tse:FindEventsResponse>"))
        if "<tse:GetEventSearchResults>" in body:
            tok = sessions[body.split("<tse:SearchToken>")[1].split("<")[0]]
            st = "Searching" if endless else "Completed"
            return ok(ENV.format(f"<tse:GetEventSearchResultsResponse><tse:ResultList><tt:SearchState>{st}"
                                 f"</tt:SearchState>{''.join(events.get(tok, []))}</tse:ResultList>"
                                 "</tse:GetEventSearchResultsResponse>"))
        if "<tse:EndSearch>" in body:
            return ok(ENV.format("<tse:EndSearchResponse><tse:Endpoint>2026-12-07T00:00:00Z</tse:Endpoint>"
                                 "</tse:EndSearchResponse>"))
        raise AssertionError(body[:200])

    return fake(route)


def device_now(fixtures_dir) -> float:  # type: ignore[no-untyped-def]
    raw = (fixtures_dir / "onvif/easy_onvif_generic_gx728mf-ir28/GetSystemDateAndTime.xml").read_bytes()
    return onvif_g.parse_device_time(onvif_g.parse(raw, "t").find(".//{*}Body")[0])


def _job(now: float, **limits: int) -> Job:
    return Job("nvr-3", "onvif_g", (1, 2, 10), now - 86400, now, now, "Asia/Shanghai", Limits(**limits))


def iso(t: float) -> str:
    return onvif_g.iso(t)


async def test_history_events_become_coverage_with_the_gap_between_them(fixtures_dir) -> None:  # type: ignore[no-untyped-def]
    now = device_now(fixtures_dir)  # our clock agrees with the recorder's: offset 0
    start = now - 86400
    events = {
        "REC_1": [state("REC_1", iso(start - 3600), True, start=True),
                  state("REC_1", iso(start + 36000), False), state("REC_1", iso(start + 37500), True)],
        "REC_2": [state("REC_2", iso(start), False, start=True)],
    }
    t = recorder(fixtures_dir, events)
    res = await onvif_g.collect(t, _job(now))
    assert res.up and res.clock_offset == 0
    one, two, three = res.channels[1], res.channels[2], res.channels[10]
    # channel n = the token ending in n: REC_1 has a 25-minute gap, nothing else
    assert one.covered == [(start, start + 36000), (start + 37500, now)]
    assert two.covered == [] and two.error == ""  # recorded nothing: a whole-day gap, known
    assert three.error == "malformed"  # REC_10 answered no RecordingHistory state: unknown, not a gap
    assert one.oldest == ts("2026-11-01T00:00:00Z")
    assert sum("<tse:EndSearch>" in c.body.decode() for c in t.calls) == 4  # every session released


async def test_a_recorder_clock_hours_off_is_corrected_by_its_offset(fixtures_dir) -> None:  # type: ignore[no-untyped-def]
    dev = device_now(fixtures_dir)
    ours = dev - 3 * 3600  # the recorder runs three hours ahead
    events = {"REC_1": [state("REC_1", iso(dev - 86400 - 60), True, start=True), state("REC_1", iso(dev - 600), False)]}
    res = await onvif_g.collect(recorder(fixtures_dir, events), _job(ours))
    assert res.clock_offset == 3 * 3600
    assert res.channels[1].covered == [(ours - 86400, ours - 600)]


async def test_a_search_that_never_completes_is_cut_off(fixtures_dir) -> None:  # type: ignore[no-untyped-def]
    t = recorder(fixtures_dir, {}, endless=True)
    res = await onvif_g.collect(t, _job(device_now(fixtures_dir), max_pages=3))
    assert [res.channels[c].error for c in (1, 2, 10)] == ["paging"] * 3
    assert sum("<tse:GetEventSearchResults>" in c.body.decode() for c in t.calls) == 9


def test_coverage_from_state_changes() -> None:
    assert onvif_g.coverage([(5, True), (20, False), (30, True)], 0, 100) == [(5, 20), (30, 100)]
    assert onvif_g.coverage([(-10, True)], 0, 100) == [(0, 100)]
    assert onvif_g.coverage([(-10, False)], 0, 100) == []


def test_channels_by_trailing_number_else_by_position() -> None:
    assert onvif_g.channel_map([("REC_010", None), ("REC_002", 5.0)]) == {10: ("REC_010", None), 2: ("REC_002", 5.0)}
    assert onvif_g.channel_map([("b", None), ("a", None)]) == {1: ("b", None), 2: ("a", None)}
    assert onvif_g.channel_map([("x1", None), ("y1", None)]) == {1: ("x1", None), 2: ("y1", None)}

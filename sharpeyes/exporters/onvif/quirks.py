"""Camera quirks, one small function each, with the evidence (a capture under
../shared/fixtures/onvif beside the checkout, "the captures" below) that made us write it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from sharpeyes.exporters.onvif.errors import OnvifMalformedError, OnvifNotSupportedError
from sharpeyes.exporters.onvif.model import CameraClock, DateTuple

UTC = dt.UTC

# POSIX TZ, as cameras write it. Evidence, all GetSystemDateAndTime.xml:
#   "CST-08:00" (oem-hikvision_ipg-8150pss: colon offsets), "CST5:00:00" (sunba_performance-series),
#   "EST+5:00:00EDT04:00:00,M3.5.0/01:00:00,M10.5.0/02:00:00" (oem-hikvision_enp1a14-ir-25x),
#   "CST5CDT,M3.2.0/2,M11.1.0/2" (generic_gx728mf-ir28), "AST4ADT" (ipd-h4k8m05-bs: DST without rule),
#   "CST6CDT:" (sunba-405_xiongmai-xm530: stray trailing colon), "MoroccoStandardTime0" (agsh-onvif:
#   a Windows-style long name), "COT5" (dlink_dcs-6511).
_NAME = r"(?:<[^>]+>|[A-Za-z]{3,})"
_OFFSET = r"[+-]?\d{1,2}(?::\d{1,2}){0,2}"
_POSIX_TZ = re.compile(
    rf"^(?P<std>{_NAME})(?P<off>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<doff>{_OFFSET})?(?:,(?P<start>[^,]+),(?P<end>[^,]+))?)?:?$"
)
_MRULE = re.compile(r"^M(\d{1,2})\.([1-5])\.([0-6])(?:/([+-]?\d{1,3}(?::\d{1,2}){0,2}))?$")


def checked_datetime(parts: DateTuple | None, what: str) -> dt.datetime | None:
    """A naive datetime from ONVIF Date/Time fields, or OnvifMalformedError for impossible ones.

    Evidence: python-onvif-zeep-async/PullMessagesResponse_invalid_TerminationTime.xml, a real
    camera answering minute 61; the library "fixes" such overflow in xs:dateTime values, but our
    clock offset would then be silently wrong, so a 61st minute or a 13th month is "malformed".
    """
    if parts is None:
        return None
    try:
        return dt.datetime(*parts)
    except (ValueError, TypeError, OverflowError) as exc:
        raise OnvifMalformedError(f"{what} is not a valid date/time {parts}: {exc}") from None


def _offset_seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    fields = [int(x) for x in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (fields[0] * 3600 + fields[1] * 60 + fields[2])


def _rule_moment(rule: str, year: int) -> dt.datetime | None:
    """Local wall time of an "Mm.w.d[/time]" transition in ``year`` (None: unsupported rule form)."""
    m = _MRULE.match(rule)
    if not m:
        return None
    month, week, weekday = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12:
        return None
    first_weekday, days = calendar.monthrange(year, month)  # Monday = 0
    day = 1 + ((weekday - 1) % 7 - first_weekday) % 7 + (week - 1) * 7
    while day > days:  # week 5 means "last"
        day -= 7
    at = _offset_seconds(m.group(4)) if m.group(4) else 7200
    return dt.datetime(year, month, day) + dt.timedelta(seconds=at)


def _dst_in_effect(local: dt.datetime, start: str | None, end: str | None) -> bool:
    # Without a rule ("AST4ADT", "CST6CDT:") we assume standard time: the captures' local and
    # UTC clocks agree with that for ipd-h4k8m05-bs and sunba-405 (the latter in April, flag true),
    # and neither the DaylightSavings flag nor a guessed rule would have been right for both.
    if not start or not end:
        return False
    begin, finish = _rule_moment(start, local.year), _rule_moment(end, local.year)
    if begin is None or finish is None:
        return False
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish  # southern hemisphere


def utc_from_local(local: dt.datetime, tz: str) -> dt.datetime:
    """UTC from a camera's LocalDateTime and POSIX TZ, for cameras that omit UTCDateTime.

    Checked against every capture that reports both clocks (tests: UTC derived from LocalDateTime
    + TZ equals the reported UTCDateTime for all of them). Known limit: firmware that switches DST
    by its own logic rather than its TZ rule would make the derived UTC off by the DST hour.
    Cameras reporting UTCDateTime never take this path.
    """
    m = _POSIX_TZ.match(tz.strip())
    if not m:
        raise OnvifMalformedError(f"no UTCDateTime and an unparseable TZ {tz[:40]!r}")
    west = _offset_seconds(m.group("off"))  # POSIX offsets are hours *west* of Greenwich
    if m.group("dst") and _dst_in_effect(local, m.group("start"), m.group("end")):
        west = _offset_seconds(m.group("doff")) if m.group("doff") else west - 3600
    return local + dt.timedelta(seconds=west)


def camera_utc(clock: CameraClock) -> dt.datetime:
    """The camera's idea of UTC now (aware datetime), from UTCDateTime or LocalDateTime + TZ."""
    utc = checked_datetime(clock.utc, "UTCDateTime")
    if utc is None:
        local = checked_datetime(clock.local, "LocalDateTime")
        if local is None:
            raise OnvifMalformedError("GetSystemDateAndTime has neither UTCDateTime nor LocalDateTime")
        utc = utc_from_local(local, clock.tz)
    return utc.replace(tzinfo=UTC)


def clock_offset_seconds(clock: CameraClock) -> float:
    """Camera UTC minus exporter UTC at the moment of asking (the camera reports whole seconds)."""
    return camera_utc(clock).timestamp() - clock.asked_at


_NOT_SUPPORTED_SUBCODES = frozenset({"ActionNotSupported", "NoProfile", "NotSupported"})
# gSOAP servers answer an unknown method with a bare Sender fault and this reason text.
# Evidence: easy_onvif_ipd-h4k8m05-bs/SoapFault.xml ("Method 'GetStorageConfigurations' not
# implemented: method name or namespace not recognized").
_NOT_IMPLEMENTED_TEXT = re.compile(r"not implemented|not recognized|not supported", re.IGNORECASE)


def fault_means_not_supported(subcodes: list[str], message: str) -> bool:
    """True for faults that say "this camera lacks the operation".

    Evidence: ter:ActionNotSupported in oem-hikvision_ipg-8150pss/SoapFault.xml and
    sunba_performance-series/SoapFault.xml ("Optional Action Not Implemented"); the gSOAP
    text-only form above.
    """
    if any(code in _NOT_SUPPORTED_SUBCODES for code in subcodes):
        return True
    return not subcodes and bool(_NOT_IMPLEMENTED_TEXT.search(message or ""))


def raise_for_not_supported(subcodes: list[str], message: str) -> None:
    if fault_means_not_supported(subcodes, message):
        raise OnvifNotSupportedError(f"operation not supported: {message[:120]}")


def profile_needs_encoder_lookup(encoder_complete: bool, has_encoder: bool) -> bool:
    """GetProfiles usually embeds the full VideoEncoderConfiguration (every Media1 capture does);
    only a profile naming an encoder with missing resolution/rate details needs
    GetVideoEncoderConfigurations. A profile with no encoder at all (Hikvision's unconfigured
    "thirdStream", evidence: oem-hikvision_enp1a14-ir-25x/GetProfiles.xml Profile_3) has nothing
    to look up and yields no encoder samples."""
    return has_encoder and not encoder_complete


# "No limit" and "not set" in encoder fields. AXIS reports BitrateLimit 2147483647 (2^31-1, the
# xs:int maximum) kbit/s for an unlimited profile (evidence: tests/fixtures/onvif/SOURCES.tsv,
# axis-acap-tip-workshop's onvif-request sample); taken as a limit it read as 268 GB/s. Other
# encoders write 0 or -1 for "not set". None of these is a measurement.
XS_INT_MAX = 2147483647
MAX_PIXELS_PER_SIDE = 65535


def bitrate_limit_kbps(value: int | None) -> tuple[int | None, bool]:
    """(limit in kbit/s or None, unlimited?) for a reported BitrateLimit."""
    if value is None or value <= 0:
        return None, False
    if value >= XS_INT_MAX:
        return None, True
    return value, False


def frame_rate_limit(value: float | None) -> float | None:
    """A FrameRateLimit, or None for 0, negatives, NaN and the xs:int "no limit" maximum."""
    if value is None or not 0 < value < XS_INT_MAX:  # NaN fails both comparisons
        return None
    return value


def picture_side(value: int | None) -> int | None:
    """A resolution Width/Height, or None for 0 ("not set") and impossible sizes."""
    if value is None or not 0 < value <= MAX_PIXELS_PER_SIDE:
        return None
    return value

"""What each simulated camera sees: a deterministic scene of its own, rendered on request.

The simulator shares no code with the exporter or sharpeyes.vqd (a deliberate separate copy of
the fault renderings in bench/bench_vqd.py): the image faults below are
written from what the faults look like on real cameras, not from how the checks detect them.

A scene is a window into one of a few shared canvases built from the photographs scikit-image
ships (loaded once, ~40 MB for all), chosen and offset by a hash of the device id, so 2240
cameras cost no per-camera memory: every still is rendered when asked for. On top: lighting by
the camera's local hour (UTC+8), monochrome infrared at night (19:00-06:00), sensor noise (a
slice of a few shared noise frames), a burnt-in OSD date/time and camera name, then the image
fault the fault engine set on the camera (``state.extra["image_fault"] = (name, severity)``,
severity 1 mild, 2 clear, 3 severe). A frozen camera keeps answering the still it had when it
froze (the only per-camera memory, and only while frozen).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np

IMAGE_FAULTS = ("video_loss", "frozen", "defocus", "occluded", "color_cast", "snow", "stripes",
                "displaced", "too_dark", "overexposed")
_PHOTOS = ("rocket", "astronaut", "coffee", "chelsea", "motorcycle")
_CANVAS_SCALE = 1.3
_TZ_HOURS = 8  # the district's local time (China Standard Time) for day and night
_WORK_WIDTH = 960


@lru_cache(maxsize=1)
def _canvases() -> tuple[np.ndarray, ...]:
    import skimage.data as skdata

    out = []
    for name in _PHOTOS:
        img = skdata.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skdata, name)()
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        out.append(cv2.resize(bgr, (int(1920 * _CANVAS_SCALE), int(1080 * _CANVAS_SCALE)),
                              interpolation=cv2.INTER_CUBIC))
    return tuple(out)


@lru_cache(maxsize=8)
def _noise(width: int, height: int, night: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian sensor noise (sigma 2 by day, 3.5 in infrared) as saturating uint8 add/subtract tiles."""
    rng = np.random.default_rng(20261207)
    n = np.rint(rng.normal(0, 3.5 if night else 2.0, (height + 64, width + 64, 1)))
    n = np.repeat(n, 3, axis=2) if night else np.rint(rng.normal(0, 2.0, (height + 64, width + 64, 3)))
    return np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)


def _seed(device_id: str) -> int:
    return int.from_bytes(hashlib.sha256(device_id.encode()).digest()[:8], "big")


def is_night(camera_clock: float) -> bool:
    hour = time.gmtime(camera_clock + _TZ_HOURS * 3600).tm_hour
    return hour >= 19 or hour < 6


def daylight(camera_clock: float) -> float:
    """Scene brightness factor: full at noon, dimmer at dawn and dusk."""
    t = time.gmtime(camera_clock + _TZ_HOURS * 3600)
    hour = t.tm_hour + t.tm_min / 60
    return float(0.75 + 0.25 * np.clip(np.sin((hour - 6) / 13 * np.pi), 0, 1))


def view(device_id: str, width: int, height: int, shift: float = 0.0, angle: float = 0.0) -> np.ndarray:
    """The camera's framing of its canvas (``shift``: share of the width it turned away)."""
    seed = _seed(device_id)
    canvas = _canvases()[seed % len(_PHOTOS)]
    ch, cw = canvas.shape[:2]
    x0 = ((seed >> 8) % 1000) / 1000 * (cw - 1920) + shift * 1920
    y0 = ((seed >> 20) % 1000) / 1000 * (ch - 1080)
    m = np.asarray(cv2.getRotationMatrix2D((x0 + 960, y0 + 540), angle, 1.0), np.float64)
    m[:, 2] -= (x0, y0)
    m = m * (width / 1920)
    img = cv2.warpAffine(canvas, m, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    return cv2.flip(img, 1) if (seed >> 40) & 1 else img


def render(device_id: str, name: str, camera_clock: float, width: int, height: int,
           fault: tuple[str, int] | None = None, quality: int = 85) -> bytes:
    """One JPEG still of the camera at its clock, with its image fault (not ``frozen``: see Stills)."""
    kind, level = fault if fault else ("", 0)
    k = min(max(level, 1), 3) - 1
    if kind == "video_loss":
        blank = np.empty((height, width, 3), np.uint8)
        blank[:] = (0, 0, 0) if _seed(device_id) % 2 else (160, 60, 16)  # black or the blue "no video" screen
        cv2.putText(blank, "NO VIDEO", (width // 2 - width // 10, height // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    width / 800, (255, 255, 255), max(1, width // 400))
        return _encode(_osd(blank, name, camera_clock), quality)
    shift, angle = (((0.02, 0.5), (0.08, 1.5), (0.18, 4.0))[k] if kind == "displaced" else (0.0, 0.0))
    # the scene is built at up to 960 pixels across and enlarged: a quarter of the pixel work
    rw = min(width, _WORK_WIDTH)
    rh = max(1, round(height * rw / width))
    img: np.ndarray = view(device_id, rw, rh, shift, angle).astype(np.float32)
    night = is_night(camera_clock)
    if night:  # infrared: monochrome, flatter
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) * 0.55 + 25
        img = cv2.merge([g, g, g])
    else:
        img = img * np.float32(daylight(camera_clock))
    img = _electrical(kind, k, _optical(kind, k, img, device_id), camera_clock)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if (rw, rh) != (width, height):
        out = cv2.resize(out, (width, height), interpolation=cv2.INTER_LINEAR)
    # sensor noise at full resolution, from shared tiles at a random offset: never twice the same
    pos, neg = _noise(width, height, night)
    dy, dx = (int(x) for x in np.random.default_rng().integers(0, 64, 2))
    out = cv2.subtract(cv2.add(out, pos[dy:dy + height, dx:dx + width]), neg[dy:dy + height, dx:dx + width])
    return _encode(_osd(out, name, camera_clock), quality)


def _optical(kind: str, k: int, img: np.ndarray, device_id: str) -> np.ndarray:
    """Faults in front of or inside the lens, before the sensor adds its noise."""
    h, w = img.shape[:2]
    if kind == "defocus":
        return cv2.GaussianBlur(img, (0, 0), (2.5, 6.0, 12.0)[k] * w / 1920)  # sigma in 1080p pixels
    if kind == "too_dark":
        return img * (0.5, 0.28, 0.1)[k]
    if kind == "overexposed":
        gain, offset = ((1.35, 25), (1.9, 50), (3.0, 80))[k]
        return img * gain + offset
    if kind == "color_cast":
        s = (0.07, 0.2, 0.4)[k]
        return img * np.array((1 - s, 1.0, 1 + s), np.float32)  # a weak blue channel: reddish picture
    if kind == "occluded":
        area = (0.1, 0.22, 0.4)[k]
        mask: np.ndarray = np.zeros((h, w), np.float32)
        radius = int(np.sqrt(area * w * h * 4 / np.pi))
        corner = (w, h) if _seed(device_id) % 2 else (0, h)
        cv2.ellipse(mask, corner, (radius, int(radius * 0.8)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 25 * w / 1920)[..., None]
        bag = np.array((90, 95, 90), np.float32)
        return img * (1 - mask) + bag * mask
    return img


def _electrical(kind: str, k: int, img: np.ndarray, clock: float) -> np.ndarray:
    """Faults on the signal after the sensor."""
    h, w = img.shape[:2]
    if kind == "snow":
        sigma, salt = ((7.0, 0.002), (16.0, 0.01), (32.0, 0.04))[k]
        rng = np.random.default_rng(int(clock))
        img = img + rng.normal(0, sigma, (h, w, 1)).astype(np.float32)
        dots = rng.random((h, w)) < salt
        img[dots] = 255.0
        return img
    if kind == "stripes":
        amp = (4.0, 10.0, 22.0)[k]
        period = 30 * h / 1080
        phase = clock % 60 / 60 * 2 * np.pi  # rolling bars move between stills
        rows = amp * np.sin(2 * np.pi * np.arange(h, dtype=np.float32) / period + phase)
        return img + rows[:, None, None]
    return img


def _osd(img: np.ndarray, name: str, clock: float) -> np.ndarray:
    h, w = img.shape[:2]
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock + _TZ_HOURS * 3600))
    scale, thick = w / 1200, max(1, w // 640)
    at = (w // 48, h // 15)
    cv2.putText(img, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick * 3, cv2.LINE_AA)
    cv2.putText(img, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    label = name[:24].encode("ascii", "replace").decode()  # the Hershey font has no CJK
    cv2.putText(img, label, (w - w // 3, h - h // 25), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                cv2.LINE_AA)
    return img


def _encode(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


class Stills:
    """Renders stills for the ONVIF server; remembers the still of each frozen camera only."""

    def __init__(self, renderer: Callable[..., bytes] = render) -> None:
        self._render = renderer
        self._frozen: dict[str, bytes] = {}

    def still(self, device_id: str, name: str, camera_clock: float, width: int, height: int,
              fault: tuple[str, int] | None) -> bytes:
        if fault and fault[0] == "frozen":
            data = self._frozen.get(device_id)
            if data is None:
                data = self._frozen[device_id] = self._render(device_id, name, camera_clock, width, height, None)
            return data
        self._frozen.pop(device_id, None)
        return self._render(device_id, name, camera_clock, width, height, fault)

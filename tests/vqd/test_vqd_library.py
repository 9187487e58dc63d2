"""The VQD library on scikit-image's real photographs: decoding hostile bytes, verdicts, the baseline store."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import skimage.data as skdata

from sharpeyes.vqd import Baseline, Frame, StillError, VqdSettings, analyze, decode_still, learn
from sharpeyes.vqd.store import BaselineStore

W, H = 1920, 1080
T0 = 1_790_000_000.0


def jpeg(img: np.ndarray, quality: int = 85) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    img = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    return cv2.resize(img, (W, H), interpolation=cv2.INTER_CUBIC)


def still(scene: np.ndarray, seed: int, transform=None) -> bytes:
    rng = np.random.default_rng(seed)
    img = scene if transform is None else transform(scene)
    noisy = img.astype(np.float32) * rng.uniform(0.95, 1.05) + rng.normal(0, 2.0, img.shape)
    return jpeg(np.clip(noisy, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def learnt(scene: np.ndarray) -> tuple[Baseline, bytes]:
    baseline = Baseline("cam-1", T0)
    last = b""
    for i in range(8):
        last = still(scene, i)
        frame = Frame(decode_still(last))
        learn(baseline, frame, analyze(frame, baseline, T0 + 600 * i), T0 + 600 * i, last)
    assert baseline.ready("day", VqdSettings().min_samples)
    return baseline, last


def judge(baseline: Baseline, data: bytes, previous: bytes) -> tuple[str, ...]:
    prev = Frame(decode_still(previous))
    baseline.previous, baseline.previous_taken = prev.interior.copy(), T0 + 10_000
    return analyze(Frame(decode_still(data)), baseline, T0 + 10_600).faults


def test_decode_is_reduced_and_bounded(scene: np.ndarray) -> None:
    pic = decode_still(jpeg(scene))
    assert pic.shape == (540, 960, 3)  # DCT-scaled 1/2, never a full 1080p decode
    assert Frame(pic).bgr.shape == (270, 480, 3)


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html><body>401 Unauthorized</body></html>", "not_jpeg"),
    (b"", "not_jpeg"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "truncated"),
    (b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03" + b"\x00" * 9, "too_large"),
    (b"\xff\xd8\x00\x00garbage", "corrupt"),
])
def test_hostile_bytes_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(StillError) as err:
        decode_still(body)
    assert err.value.reason == reason


def test_truncated_jpeg_is_refused(scene: np.ndarray) -> None:
    data = jpeg(scene)
    with pytest.raises(StillError) as err:
        decode_still(data[: len(data) // 2])
    assert err.value.reason == "truncated"


def test_clean_stills_are_intact(scene: np.ndarray, learnt: tuple[Baseline, bytes]) -> None:
    baseline, last = learnt
    for seed in (100, 101, 102):
        assert judge(baseline, still(scene, seed), last) == ()


def _blue_screen(img: np.ndarray) -> np.ndarray:
    out = np.empty_like(img)
    out[:] = (160, 60, 16)
    cv2.putText(out, "NO VIDEO", (700, 540), cv2.FONT_HERSHEY_SIMPLEX, 2.5, (255, 255, 255), 5)
    return out


def _cast(img: np.ndarray) -> np.ndarray:
    return np.clip(img.astype(np.float32) * (0.75, 1.0, 1.25), 0, 255).astype(np.uint8)


def _stripes(img: np.ndarray) -> np.ndarray:
    wave = 15 * np.sin(2 * np.pi * np.arange(H, dtype=np.float32) / 30)[:, None, None]
    return np.clip(img.astype(np.float32) + wave, 0, 255).astype(np.uint8)


def _shift(img: np.ndarray) -> np.ndarray:
    m = np.float32([[1, 0, 180], [0, 1, 40]])
    return cv2.warpAffine(img, m, (W, H), borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize(("fault", "transform"), [
    ("video_loss", _blue_screen),
    ("too_dark", lambda img: (img * 0.15).astype(np.uint8)),
    ("low_contrast", lambda img: (img * 0.3 + 150).astype(np.uint8)),
    ("defocus", lambda img: cv2.GaussianBlur(img, (0, 0), 8)),
    ("color_cast", _cast),
    ("stripes", _stripes),
    ("displaced", _shift),
])
def test_each_fault_is_the_primary_verdict(scene: np.ndarray, learnt: tuple[Baseline, bytes], fault: str,
                                           transform) -> None:
    baseline, last = learnt
    faults = judge(baseline, still(scene, 7, transform), last)
    assert faults[:1] == (fault,)


def test_snow_is_noise_against_the_cameras_own(scene: np.ndarray, learnt: tuple[Baseline, bytes]) -> None:
    baseline, last = learnt
    rng = np.random.default_rng(5)
    noisy = jpeg(np.clip(scene + rng.normal(0, 20, scene.shape), 0, 255).astype(np.uint8))
    assert judge(baseline, noisy, last)[:1] == ("snow",)


def test_frozen_is_the_same_picture_again(scene: np.ndarray, learnt: tuple[Baseline, bytes]) -> None:
    baseline, _ = learnt
    same = still(scene, 42)
    assert judge(baseline, same, same)[:1] == ("frozen",)


def test_night_infrared_is_its_own_mode_not_a_fault(scene: np.ndarray) -> None:
    gray = cv2.cvtColor(cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    night = (gray * 0.55 + 25).astype(np.uint8)
    frame = Frame(decode_still(jpeg(night)))
    d = analyze(frame, Baseline("cam-1", T0), T0)
    assert d.mode == "night" and d.faults == () and not d.baseline_ready


def test_store_round_trip_reset_and_bad_file(tmp_path, learnt: tuple[Baseline, bytes]) -> None:
    baseline, last = learnt
    store = BaselineStore(tmp_path)
    baseline.modes["day"].reference_jpeg = last
    store.save(baseline, last)
    again = store.load("cam-1")
    assert again.modes["day"].samples == baseline.modes["day"].samples
    assert np.array_equal(again.modes["day"].reference.descriptors, baseline.modes["day"].reference.descriptors)
    assert store.still("cam-1", "last") == last and store.still("cam-1", "reference") == last
    (tmp_path / "cam-1" / "baseline.npz").write_bytes(b"PK\x03\x04broken")
    fresh = store.load("cam-1", now=time.time())
    assert fresh.modes["day"].count() == 0 and (tmp_path / "cam-1" / "baseline.npz.bad").exists()
    assert store.reset("cam-1") and not store.reset("cam-1")
    with pytest.raises(ValueError):
        store.dir("../etc")

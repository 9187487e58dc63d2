"""One small function per image check: a Frame (and what this camera looked like) in, a Finding out.

Every check returns its score, the threshold it compared the score with, and a verdict: True (fault),
False (fine) or None (cannot judge yet: the check needs this camera's baseline and the baseline for
this light mode is still being learnt). Thresholds live in one settings dataclass per check; the
comment beside each says where the number comes from. "bench" means bench/bench_vqd.py on
scikit-image's photographs (clean day, synthetic night IR, busy scenes, each fault at three
severities): the threshold sits between the clean images' worst score and the clear-severity
faults' least severe score printed by ``--scores``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from sharpeyes.vqd.frame import GRID, OSD_BAND, Frame


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    score: float
    threshold: float
    fault: bool | None  # None: not judged (baseline not ready, no previous still)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """What the camera's reference still of this light mode looked like (see baseline.py)."""

    texture: np.ndarray  # Frame.block_texture / Frame.contrast of the reference
    fine: np.ndarray  # Frame.block_fine / Frame.block_std of the reference (sharpness per block)
    colour: np.ndarray  # Frame.block_colour of the reference
    std: np.ndarray  # Frame.block_std of the reference
    keypoints: np.ndarray  # N x 2 float32 ORB keypoint positions
    descriptors: np.ndarray  # N x 32 uint8 ORB descriptors
    width: int


# --- video_loss: signal loss, black screen, blue "no video" screen --------------------------------
@dataclass(frozen=True, slots=True)
class VideoLossSettings:
    # Large-scale structure (median absolute deviation of 16x9 block means outside the OSD bands):
    # an encoder's "no video" screen (black, blue, grey, with its text and even analogue noise)
    # has none (bench: <= 0.1), while the darkest or foggiest real scene keeps a few levels.
    max_structure: float = 0.8
    # ... and is not white: a uniformly white picture is a blown-out sensor (overexposed).
    max_luminance: float = 200.0


def video_loss(frame: Frame, s: VideoLossSettings) -> Finding:
    score = frame.structure
    b, g, r = frame.median_bgr
    fault = score < s.max_structure and frame.mean < s.max_luminance
    return Finding("video_loss", score, s.max_structure, fault, f"median colour B{b:.0f} G{g:.0f} R{r:.0f}")


# --- frozen: the same picture as the previous still ----------------------------------------------
@dataclass(frozen=True, slots=True)
class FrozenSettings:
    # Mean absolute difference (levels) of the picture outside the OSD bands: two stills of a live
    # sensor differ by sensor noise alone by > 0.3 (bench clean min); a stalled pipeline re-sends
    # the same frame (0.0), even when the encoder keeps burning in a live clock.
    max_mean_difference: float = 0.08
    min_interval: float = 1.0  # seconds: stills closer than this are not compared


def frozen(frame: Frame, previous: np.ndarray | None, interval: float, s: FrozenSettings) -> Finding:
    if previous is None or previous.shape != frame.interior.shape or interval < s.min_interval:
        return Finding("frozen", float("nan"), s.max_mean_difference, None, "no previous still to compare")
    score = float(cv2.absdiff(frame.interior, previous).mean())
    return Finding("frozen", score, s.max_mean_difference, score <= s.max_mean_difference,
                   f"{interval:.0f}s after the previous still")


# --- exposure: too dark, overexposed --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DarkSettings:
    # Mean luminance (0-255). Night infrared scenes average 50-110; a scene below 18 shows
    # nothing; below 45 % of this camera's own level for the light mode it lost its light
    # (bench: clean min ratio 0.78, clear fault max 0.35).
    absolute: float = 18.0
    relative: float = 0.45
    relative_ceiling: float = 60.0  # the relative rule only applies below this mean


def too_dark(frame: Frame, baseline_mean: float | None, s: DarkSettings) -> Finding:
    mean = frame.mean
    threshold = s.absolute
    if baseline_mean is not None:
        threshold = max(s.absolute, min(s.relative * baseline_mean, s.relative_ceiling))
    return Finding("too_dark", mean, threshold, mean < threshold, "mean luminance")


@dataclass(frozen=True, slots=True)
class OverexposedSettings:
    # Share of clipped pixels (>= 250) above this camera's own share for the light mode: sunlit
    # white walls clip a few percent, a blown-out picture a fifth or more (bench). A picture whose
    # mean rose far above its own normal into the bright end is washed out even before it clips.
    clipped_level: int = 250
    excess_clipped: float = 0.2
    bright_mean: float = 150.0
    mean_rise: float = 50.0
    keeps_contrast: float = 0.55  # below this share of its contrast it is fog (low_contrast), not exposure
    absolute_mean: float = 225.0  # a mean this high is washed out whatever the baseline says


def overexposed(frame: Frame, baseline_clipped: float | None, baseline_mean: float | None,
                baseline_contrast: float | None, s: OverexposedSettings) -> Finding:
    clipped = frame.fraction_at_least(s.clipped_level)
    score = clipped - (baseline_clipped or 0.0)
    # fog brightens too, but flattens the picture; a longer exposure or gain keeps its contrast
    washed = (baseline_mean is not None and baseline_contrast is not None and frame.mean >= s.bright_mean
              and frame.mean - baseline_mean >= s.mean_rise and frame.contrast >= s.keeps_contrast * baseline_contrast)
    fault = score >= s.excess_clipped or frame.mean >= s.absolute_mean or washed
    return Finding("overexposed", score, s.excess_clipped, fault, f"clipped {clipped:.1%}, mean {frame.mean:.0f}")


# --- low contrast / fog ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ContrastSettings:
    # RMS contrast relative to the camera's own (fog, a dirty dome, a washed-out encoder): clean
    # stills keep > 0.75 of it (bench, busy scenes included); a clear fog leaves < 0.5.
    min_ratio: float = 0.55
    absolute: float = 6.0  # levels: a picture this flat is low contrast without any baseline


def low_contrast(frame: Frame, baseline_contrast: float | None, s: ContrastSettings) -> Finding:
    c = frame.contrast
    if baseline_contrast is None or baseline_contrast <= 0:
        return Finding("low_contrast", c, s.absolute, True if c < s.absolute else None, "RMS contrast, no baseline")
    ratio = c / baseline_contrast
    return Finding("low_contrast", ratio, s.min_ratio, ratio < s.min_ratio or c < s.absolute,
                   f"RMS contrast {c:.1f} vs {baseline_contrast:.1f}")


# --- defocus and occlusion: block texture against the reference -----------------------------------
@dataclass(frozen=True, slots=True)
class TextureSettings:
    # Blocks whose reference texture is in the weakest quarter (sky, walls) carry no evidence of
    # cover; focus is judged on the most textured 40 % only (elsewhere sensor noise is the detail).
    min_reference_quantile: float = 0.25
    focus_quantile: float = 0.6
    focus_min_std: float = 6.0  # levels: flatter blocks (night sky) hold sensor noise, not detail
    # Defocus: median over textured blocks of (finest detail / the block's own contrast) now against
    # the reference. The ratio ignores exposure and fog (both scale the two alike) and, being a
    # median of blocks, passing traffic; defocus removes the finest detail first (bench).
    defocus_ratio: float = 0.7
    # Occlusion: a block is covered when its texture fell below lost_ratio of the reference, or
    # when it is textureless now and its colour moved by colour_change levels (a bag over a sky
    # that was already flat). The largest 4-connected group of covered blocks must reach
    # occluded_fraction of the frame while the other blocks keep their detail (else: defocus).
    lost_ratio: float = 0.35
    colour_change: float = 30.0
    flat_std: float = 4.0  # levels: a block this uniform is textureless whatever it was
    occluded_fraction: float = 0.1
    rest_min_ratio: float = 0.6


def _texture_mask(ref: Reference, s: TextureSettings) -> tuple[np.ndarray, float]:
    floor = max(float(np.quantile(ref.texture, s.min_reference_quantile)), 1e-3)
    return ref.texture >= floor, floor


def defocus(frame: Frame, ref: Reference | None, s: TextureSettings) -> Finding:
    if ref is None:
        return Finding("defocus", float("nan"), s.defocus_ratio, None, "reference still not learnt yet")
    mask = (ref.texture >= max(float(np.quantile(ref.texture, s.focus_quantile)), 1e-3)) & (ref.std >= s.focus_min_std)
    if not mask.any():
        return Finding("defocus", float("nan"), s.defocus_ratio, None, "no textured block in the reference")
    score = float(np.median(_focus_ratios(frame, ref)[mask]))
    return Finding("defocus", score, s.defocus_ratio, score < s.defocus_ratio,
                   "finest detail per unit of block contrast vs the reference (median of the textured blocks)")


def _focus_ratios(frame: Frame, ref: Reference) -> np.ndarray:
    return (frame.block_fine / np.maximum(frame.block_std, 1.0)) / np.maximum(ref.fine, 1e-6)


def occluded(frame: Frame, ref: Reference | None, s: TextureSettings) -> Finding:
    if ref is None:
        return Finding("occluded", float("nan"), s.occluded_fraction, None, "reference still not learnt yet")
    mask, _ = _texture_mask(ref, s)
    raw = frame.block_texture / np.maximum(ref.texture, 1e-6)
    ratios = raw / max(float(np.median(raw[mask])), 1e-6)  # a global gain, fog or exposure is not cover
    flat_now = (frame.block_std < s.flat_std) | (ratios < s.lost_ratio)
    change = frame.block_colour - ref.colour
    change -= np.median(change.reshape(-1, 3), axis=0)  # a global cast or exposure change is not cover
    recoloured = np.abs(change).max(axis=2) >= s.colour_change
    covered = ((mask & (ratios < s.lost_ratio)) | (flat_now & recoloured)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(covered, connectivity=4)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if count > 1 else 0
    score = largest / (GRID[0] * GRID[1])
    # the blocks left uncovered must keep their sharpness, else the whole picture is blurred (defocus)
    rest = (ref.std >= s.focus_min_std) & (covered == 0)
    rest_ratio = float(np.median(_focus_ratios(frame, ref)[rest])) if rest.any() else 1.0
    fault = score >= s.occluded_fraction and rest_ratio >= s.rest_min_ratio
    return Finding("occluded", score, s.occluded_fraction, fault,
                   f"covered region {score:.0%} of the frame, rest at {rest_ratio:.2f} of its sharpness")


# --- snow / noise -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SnowSettings:
    # Immerkær noise sigma against the camera's own: clean stills (rain included) stay below 1.6x
    # (bench); interference snow multiplies it. Both a ratio and an absolute rise are required so
    # a camera with a nearly noise-free baseline does not alarm on a fraction of a level.
    min_ratio: float = 2.0
    min_rise: float = 1.2  # levels
    absolute: float = 8.0  # levels: this noisy is snow without a baseline


def snow(frame: Frame, baseline_noise: float | None, s: SnowSettings) -> Finding:
    n = frame.noise
    if baseline_noise is None:
        return Finding("snow", n, s.absolute, True if n >= s.absolute else None, "noise sigma, no baseline")
    ratio = n / max(baseline_noise, 0.2)
    fault = (ratio >= s.min_ratio and n - baseline_noise >= s.min_rise) or n >= s.absolute
    return Finding("snow", ratio, s.min_ratio, fault, f"noise sigma {n:.2f} vs {baseline_noise:.2f}")


# --- stripes: periodic interference -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StripeSettings:
    # Rise of the strongest isolated spectral peak (log magnitude above its 9x9 neighbourhood) over
    # the camera's own: regular scenes (brick, windows) have peaks of their own, so only the rise
    # counts (bench: clean rise < 0.6, clear stripes > 1.2).
    min_rise: float = 0.9


def stripes(frame: Frame, baseline_peak: float | None, s: StripeSettings) -> Finding:
    peak = frame.stripe_peak
    if baseline_peak is None:
        return Finding("stripes", float("nan"), s.min_rise, None, "spectral baseline not learnt yet")
    rise = peak - baseline_peak
    return Finding("stripes", rise, s.min_rise, rise >= s.min_rise, f"spectral peak {peak:.2f} vs {baseline_peak:.2f}")


# --- colour cast ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CastSettings:
    # Median over blocks of the (a*, b*) shift of each block from the reference still, in Lab
    # units: passing traffic recolours some blocks, a cast moves them all. Clean stills (busy and
    # rain included) stay below 5 (bench); a lost colour channel or a stuck IR-cut filter > 10.
    max_shift: float = 7.0


def color_cast(frame: Frame, ref: Reference | None, s: CastSettings) -> Finding:
    if frame.grayscale:
        return Finding("color_cast", 0.0, s.max_shift, False, "monochrome (night infrared)")
    if ref is None:
        return Finding("color_cast", float("nan"), s.max_shift, None, "colour reference not learnt yet")
    now = frame.block_lab
    was = block_lab(ref.colour)
    da, db = float(np.median(now[..., 1] - was[..., 1])), float(np.median(now[..., 2] - was[..., 2]))
    shift = float(np.hypot(da, db))
    return Finding("color_cast", shift, s.max_shift, shift >= s.max_shift,
                   f"a* {da:+.1f} b* {db:+.1f} vs the reference")


def block_lab(colour: np.ndarray) -> np.ndarray:
    """Lab (OpenCV 8-bit scale, float) of block mean colours."""
    return cv2.cvtColor(np.clip(colour, 0, 255).astype(np.uint8), cv2.COLOR_BGR2LAB).astype(np.float32)


# --- displacement / scene change: ORB + homography against the reference ---------------------------
@dataclass(frozen=True, slots=True)
class DisplacedSettings:
    features: int = 400
    ratio_test: float = 0.75  # Lowe's ratio for a good match
    min_matches: int = 6  # fewer good matches: the reference scene is not in view
    min_inliers: int = 15  # fewer consistent ones: not judged (rain, heavy traffic hide the scene)
    same_layout: float = 0.8  # block-mean correlation with the reference above which the scene is in place
    min_layout_spread: float = 12.0  # levels: std of the reference's block means needed to compare layouts
    # Mean corner displacement of the homography as a share of the frame width: a fixed camera
    # re-found in its reference moves < 1 % (bench, traffic included); a PTZ dome off its preset or
    # a knocked bullet moves several percent.
    max_shift: float = 0.04


_orb: dict[int, Any] = {}
_masks: dict[tuple[int, int], np.ndarray] = {}


def orb_features(gray: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """ORB keypoints and descriptors outside the OSD bands (burnt-in text never moves with the scene)."""
    orb = _orb.get(n)
    if orb is None:
        orb = _orb[n] = cv2.ORB_create(n, fastThreshold=10)  # type: ignore[attr-defined]
    h, w = gray.shape
    mask = _masks.get((h, w))
    if mask is None:
        mask = _masks[(h, w)] = np.zeros((h, w), np.uint8)
        band = int(h * OSD_BAND)
        mask[band:h - band] = 255
    kps, des = orb.detectAndCompute(gray, mask)
    pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)
    return pts, (des if des is not None else np.zeros((0, 32), np.uint8))


def displaced(frame: Frame, ref: Reference | None, s: DisplacedSettings) -> Finding:
    if ref is None:
        return Finding("displaced", float("nan"), s.max_shift, None, "reference still not learnt yet")
    pts, des = orb_features(frame.normalized, s.features)
    good = []
    if len(des) >= 2 and len(ref.descriptors) >= 2:
        matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(ref.descriptors, des, k=2)
        good = [m[0] for m in matches if len(m) == 2 and m[0].distance < s.ratio_test * m[1].distance]
    if len(good) < s.min_matches:
        # No features in common: either the reference scene is not in view (a dome turned to the
        # sky, a knocked bullet) or rain/darkness hides the features. The coarse layout tells them
        # apart: hidden features leave the pattern of bright and dark blocks where it was.
        ref_layout = ref.colour.mean(axis=2).ravel()
        layout = float(np.corrcoef(frame.block_colour.mean(axis=2).ravel(), ref_layout)[0, 1])
        layout = layout if layout == layout else 0.0
        detail = f"{len(good)} matches with the reference, layout correlation {layout:.2f}"
        if float(ref_layout.std()) < s.min_layout_spread:  # a flat scene has no layout to compare
            return Finding("displaced", 1.0, s.max_shift, None, detail + " (flat reference: not judged)")
        return Finding("displaced", 1.0, s.max_shift, layout < s.same_layout, detail)
    src = ref.keypoints[[m.queryIdx for m in good]].reshape(-1, 1, 2)
    dst = pts[[m.trainIdx for m in good]].reshape(-1, 1, 2)
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    n_in = int(inliers.sum()) if inliers is not None else 0
    if matrix is None or n_in < s.min_inliers:
        return Finding("displaced", float("nan"), s.max_shift, None,
                       f"{n_in} consistent matches with the reference: not enough to judge")
    h, w = frame.gray.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    moved = corners @ matrix[:, :2].T + matrix[:, 2]
    shift = float(np.linalg.norm(moved - corners, axis=1).mean() / w)
    return Finding("displaced", shift, s.max_shift, shift >= s.max_shift, f"{n_in} inliers")

"""Measurements of one analysis frame, each computed once and shared by the checks that need it."""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

from sharpeyes.vqd.decode import ANALYSIS_WIDTH, resize_to

GRID = (16, 9)  # texture blocks across x down (30x30 pixels at 480x270)
OSD_BAND = 0.12  # top and bottom fraction of rows where cameras burn in date/time and name
_STRIPE_SIZE = 256


class Frame:
    """A BGR uint8 picture (as decode_still returns it) with lazily computed, cached measurements.

    ``bgr`` is the picture at ANALYSIS_WIDTH; ``detail`` the luminance at up to DETAIL_WIDTH.
    """

    def __init__(self, picture: np.ndarray) -> None:
        if picture.ndim == 2:
            picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
        self.bgr = resize_to(picture, ANALYSIS_WIDTH)
        self._picture = picture

    @cached_property
    def detail(self) -> np.ndarray:
        if self._picture is self.bgr:
            return self.gray
        return cv2.cvtColor(self._picture, cv2.COLOR_BGR2GRAY)

    @cached_property
    def gray(self) -> np.ndarray:
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY)

    @cached_property
    def mean(self) -> float:
        return float(self.gray.mean())

    @cached_property
    def contrast(self) -> float:
        """RMS contrast: standard deviation of the luminance."""
        return float(self.gray.std())

    @cached_property
    def histogram(self) -> np.ndarray:
        return np.bincount(self.gray.ravel(), minlength=256).astype(np.float64) / self.gray.size

    def fraction_at_least(self, level: int) -> float:
        return float(self.histogram[level:].sum())

    @cached_property
    def median_bgr(self) -> tuple[float, float, float]:
        b, g, r = np.median(self.bgr[::2, ::2].reshape(-1, 3), axis=0)
        return float(b), float(g), float(r)

    @cached_property
    def lab_chroma(self) -> tuple[float, float, float]:
        """Mean a*, mean b* (OpenCV 8-bit Lab, 128 = neutral) and the mean saturation of the frame."""
        lab = cv2.cvtColor(self.bgr[::2, ::2], cv2.COLOR_BGR2LAB)
        a = float(lab[..., 1].mean()) - 128.0
        b = float(lab[..., 2].mean()) - 128.0
        spread = float(np.hypot(lab[..., 1].astype(np.float32) - 128, lab[..., 2].astype(np.float32) - 128).mean())
        return a, b, spread

    @cached_property
    def grayscale(self) -> bool:
        """Night infrared mode: the camera sends a monochrome picture (chroma near zero everywhere)."""
        return self.lab_chroma[2] < 2.5

    @cached_property
    def smoothed(self) -> np.ndarray:
        # A light blur first: sensor noise must not count as detail.
        return cv2.GaussianBlur(self.gray, (3, 3), 0.8)

    @cached_property
    def gradient(self) -> np.ndarray:
        """Tenengrad magnitude (Sobel) of the smoothed luminance, float32."""
        gx = cv2.Sobel(self.smoothed, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(self.smoothed, cv2.CV_32F, 0, 1, ksize=3)
        return cv2.magnitude(gx, gy)

    @cached_property
    def block_texture(self) -> np.ndarray:
        """Mean gradient magnitude per GRID block (rows x cols, float32)."""
        return cv2.resize(self.gradient, GRID, interpolation=cv2.INTER_AREA)

    @cached_property
    def block_fine(self) -> np.ndarray:
        """Mean |Laplacian| of the detail luminance per GRID block above the noise floor: the finest detail."""
        smooth = cv2.GaussianBlur(self.detail, (3, 3), 0.8)
        lap = np.abs(cv2.Laplacian(smooth, cv2.CV_32F, ksize=1))
        blocks = cv2.resize(lap, GRID, interpolation=cv2.INTER_AREA)
        # The flattest blocks answer with sensor noise alone: that floor is no detail, and left in
        # it would keep a defocused noisy picture looking sharp.
        return np.maximum(blocks - float(np.percentile(blocks, 10)), 0.0)

    @cached_property
    def block_std(self) -> np.ndarray:
        """Standard deviation of the luminance inside each GRID block (its own contrast)."""
        g = self.gray.astype(np.float32)
        mean = cv2.resize(g, GRID, interpolation=cv2.INTER_AREA)
        sq = cv2.resize(g * g, GRID, interpolation=cv2.INTER_AREA)
        return np.sqrt(np.maximum(sq - mean * mean, 0.0))

    @cached_property
    def block_lab(self) -> np.ndarray:
        """Lab (OpenCV 8-bit scale) of the GRID block mean colours."""
        return cv2.cvtColor(np.clip(self.block_colour, 0, 255).astype(np.uint8), cv2.COLOR_BGR2LAB).astype(np.float32)

    @cached_property
    def block_chroma(self) -> tuple[float, float]:
        """Median over GRID blocks of the blocks' mean a*, b* (traffic moves the mean, not the median)."""
        lab = self.block_lab
        return float(np.median(lab[..., 1])) - 128.0, float(np.median(lab[..., 2])) - 128.0

    @cached_property
    def block_colour(self) -> np.ndarray:
        """Mean BGR per GRID block (rows x cols x 3, float32)."""
        return cv2.resize(self.bgr, GRID, interpolation=cv2.INTER_AREA).astype(np.float32)

    @cached_property
    def structure(self) -> float:
        """Median absolute deviation of the block means inside the OSD bands (levels): the
        large-scale layout of the scene, which a "no video" screen lacks however dark or noisy."""
        h = self.gray.shape[0]
        band = int(h * OSD_BAND)
        blocks = cv2.resize(self.gray[band:h - band], GRID, interpolation=cv2.INTER_AREA).astype(np.float32)
        return float(np.median(np.abs(blocks - np.median(blocks))))

    @cached_property
    def normalized(self) -> np.ndarray:
        """Luminance stretched so its 1st..99th percentiles span 0..255 (feature matching in the dark and fog)."""
        lo, hi = np.percentile(self.gray[::4, ::4], (1, 99))
        if hi - lo < 4:
            return self.gray
        stretched = cv2.convertScaleAbs(self.gray, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
        return cv2.GaussianBlur(stretched, (3, 3), 0.8)  # the stretch amplifies noise: not a feature

    @cached_property
    def sharpness(self) -> float:
        """Variance of the Laplacian of the smoothed luminance."""
        return float(cv2.Laplacian(self.smoothed, cv2.CV_32F).var())

    @cached_property
    def noise(self) -> float:
        """Immerkær's fast noise sigma estimate (the Laplacian-difference mask), in luminance levels."""
        g = self.gray.astype(np.float32)
        kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
        resp = np.abs(cv2.filter2D(g, -1, kernel)[1:-1, 1:-1])
        # Edges answer the mask too: the median over 8x8 blocks of the response keeps textured
        # scenes from reading as noisy, while noise raises every block.
        h, w = resp.shape
        blocks = cv2.resize(resp, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
        return float(np.percentile(blocks, 25) * np.sqrt(np.pi / 2) / 6)

    @cached_property
    def stripe_peak(self) -> float:
        """Strongest isolated peak of the log spectrum above its local background (log units)."""
        small = cv2.resize(self.gray, (_STRIPE_SIZE, _STRIPE_SIZE), interpolation=cv2.INTER_AREA)
        f = small.astype(np.float32)
        f -= f.mean()
        f *= _hann2d()
        # a real picture's spectrum is symmetric: the half-plane rfft2 returns holds every peak
        mag = np.log1p(np.abs(np.fft.fftshift(np.fft.rfft2(f), axes=0)))
        background = cv2.blur(mag, (9, 9))
        excess = mag - background
        return float(excess[_stripe_annulus()].max())

    @cached_property
    def interior(self) -> np.ndarray:
        """The luminance without the OSD bands, sampled every 2nd pixel (for frozen-picture checks)."""
        h = self.gray.shape[0]
        band = int(h * OSD_BAND)
        return self.gray[band:h - band:2, ::2]


_cache: dict[str, np.ndarray] = {}


def _hann2d() -> np.ndarray:
    if "hann" not in _cache:
        w = np.hanning(_STRIPE_SIZE).astype(np.float32)
        _cache["hann"] = np.outer(w, w)
    return _cache["hann"]


def _stripe_annulus() -> np.ndarray:
    """Frequencies from 6 to 100 cycles per frame: below is scene layout, above is JPEG blocking."""
    if "annulus" not in _cache:
        c = _STRIPE_SIZE // 2
        y, x = np.mgrid[-c:c, 0:c + 1]
        r = np.hypot(x, y)
        _cache["annulus"] = (r >= 6) & (r <= 100)
    return _cache["annulus"]

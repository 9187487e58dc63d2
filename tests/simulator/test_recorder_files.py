"""The recorders' lazy file list is exactly the eager one, slice by slice (file boundaries, intervals
ending on a boundary, tiny intervals), and a 90-day history costs only the page asked for."""

from __future__ import annotations

import random
import time

from sharpeyes.simulator.recorders.truth import Files, files


def test_lazy_files_equal_the_eager_cut() -> None:
    rnd = random.Random(14)
    for _ in range(2000):
        t, ivs = 1.79e9 + rnd.random() * 1e6, []
        for _ in range(rnd.randint(0, 6)):
            a = t + rnd.choice([0.0, rnd.random() * 5000, 1800.0 * rnd.randint(1, 3) - t % 1800])
            b = a + rnd.choice([rnd.random() * 8000, 1800.0, 0.5, 3600 - a % 1800])
            ivs.append((a, b))
            t = b + rnd.random() * 100
        fs = rnd.choice([1800.0, 600.0, 7.0])
        want, lazy = files(ivs, fs), Files(ivs, fs)
        assert len(lazy) == len(want)
        n = len(want)
        for lo, hi in ((0, n), (0, 1), (1, 3), (n // 2, n + 5), (rnd.randint(0, n), rnd.randint(0, n + 2))):
            assert lazy[lo:hi] == want[lo:hi], (ivs, fs, lo, hi)


def test_a_long_history_costs_one_page() -> None:
    now = time.time()
    t0 = time.process_time()
    for _ in range(200):
        page = Files([(now - 90 * 86400, now)], 1800.0)[0:50]
    assert len(page) == 50 and len(Files([(now - 90 * 86400, now)], 1800.0)) == 4321
    assert time.process_time() - t0 < 1.0  # the eager list took ~6 ms each (1.2 s for 200)

"""sharpeyes-recording: strict configuration with file:line errors, --config.check, and a collection
against the recorder simulator (its own process) that stores what /metrics then serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sharpeyes.recording.cli import main
from sharpeyes.simulator.secrets import write_demo
from tests.runnet import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_config_check_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "ok.yml"
    good.write_text("interval: 1h\ndeadline: 50s\nconcurrency: 8\n", encoding="utf-8")
    assert main(["--config.file", str(good), "--config.check", "serve"]) == 0
    assert capsys.readouterr().out.strip() == "ok"
    assert main(["serve", "--config.file", str(good), "--config.check"]) == 0  # after the sub-command too
    assert capsys.readouterr().out.strip() == "ok"
    bad = tmp_path / "bad.yml"
    bad.write_text("interval: 1h\ndeadlin: 50s\nconcurrency: many\n", encoding="utf-8")
    assert main(["--config.file", str(bad), "--config.check", "serve"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: field 'deadlin': unknown key" in err
    assert f"{bad}:3: field 'concurrency': 'many' is not an integer" in err
    worse = tmp_path / "worse.yml"
    worse.write_text("interval: 10m\ndeadline: 1h\n", encoding="utf-8")
    assert main(["--config.file", str(worse), "--config.check", "serve"]) == 2
    assert "must not exceed the interval" in capsys.readouterr().err


@pytest.mark.slow  # the simulated recorders as a subprocess
def test_collect_against_the_simulator(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       run_sample_dir: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    write_demo(secrets)
    port = free_port()  # the recorders bind this run's addresses (tests/runnet.py)
    sim = subprocess.Popen([sys.executable, "-m", "sharpeyes.simulator.recorders", "--port", str(port),
                            "--township", "luwangfen", "--secrets", str(secrets), "--history", "3h",
                            "--inventory", str(run_sample_dir)],
                           stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert sim.stdout is not None and sim.stdout.readline().startswith("ready")
        cfg = tmp_path / "rec.yml"
        db = tmp_path / "rec.db"
        cfg.write_text(f"db: sqlite:///{db}\nport: {port}\nsecrets_file: {secrets}\n", encoding="utf-8")
        code = main(["--config.file", str(cfg), "-i", str(run_sample_dir), "collect"])
        out = capsys.readouterr().out
        # every recorder of the district is asked; only luwangfen's are served: the rest could not be asked
        assert code == 1 and "16 recorders asked, 14 could not be asked" in out
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    from sharpeyes.recording.models import Asked
    from sharpeyes.recording.store import RecordingStore

    store = RecordingStore(f"sqlite:///{db}")
    asked = store.intervals(Asked, 0, 2e10)
    assert len(asked) == 318  # luwangfen's active cameras have known time, the others none
    assert "secret" not in out.lower()
    store.dispose()

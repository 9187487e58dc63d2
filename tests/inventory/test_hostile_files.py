"""Bad inventory files are file:line errors, never crashes or silent drops: a GBK-saved file (as a
Chinese Windows editor writes it), an empty township file, YAML anchors and aliases."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from sharpeyes.inventory.cli import main
from sharpeyes.inventory.loader import InventoryError, load_inventory

VALID = Path(__file__).parent / "valid_min"


@pytest.fixture
def inv_dir(tmp_path: Path) -> Path:
    d = tmp_path / "inv"
    shutil.copytree(VALID, d)
    return d


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(directory)
    return [str(p) for p in info.value.problems]


def save_as_gbk(path: Path) -> int:
    """Re-save a UTF-8 file as GBK; returns the line of its first non-ASCII character."""
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("gbk"))
    return next(i for i, line in enumerate(text.splitlines(), 1) if not line.isascii())


def test_gbk_saved_township_file_is_a_file_line_error(inv_dir: Path) -> None:
    line = save_as_gbk(inv_dir / "townships" / "east.yaml")
    assert line == 3  # name: 东镇
    [problem] = problems_of(inv_dir)
    assert problem.startswith(f"townships/east.yaml:{line}: not UTF-8 text: byte 0xb6 at column 9 ")
    assert "GBK" in problem


def test_validate_names_the_bad_file(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_as_gbk(inv_dir / "district.yaml")
    assert main(["validate", "-i", str(inv_dir)]) == 1
    err = capsys.readouterr().err
    assert "district.yaml:" in err and "not UTF-8 text" in err and "Traceback" not in err


@pytest.mark.parametrize("content", ["", "\n\n", "# emptied by a spreadsheet export\n---\n"])
def test_an_empty_township_file_is_an_error(inv_dir: Path, content: str) -> None:
    (inv_dir / "townships" / "east.yaml").write_text(content)
    problems = problems_of(inv_dir)
    assert problems[0] == (
        "townships/east.yaml:1: empty file (no YAML document): restore its content, "
        "or delete the file to remove the township"
    )


def test_yaml_aliases_are_rejected_with_their_line(inv_dir: Path) -> None:
    path = inv_dir / "townships" / "east.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + "  # an & in a comment is fine"
    lines[4] = "  area: &a rural"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems_of(inv_dir) == [
        "townships/east.yaml:5: YAML anchor &a: anchors and aliases are not allowed here"
    ]


def test_nested_alias_bomb_is_rejected_at_once(inv_dir: Path) -> None:
    """A 4 KB township file of nested aliases (billion laughs) used to run for minutes."""
    bomb = ['a0: &a0 ["' + "x" * 60 + '"]']
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 40)]
    text = "\n".join(bomb) + "\n"
    assert len(text) < 4096
    (inv_dir / "townships" / "bomb.yaml").write_text(text)
    start = time.monotonic()
    problems = problems_of(inv_dir)
    assert time.monotonic() - start < 5
    assert problems == ["townships/bomb.yaml:1: YAML anchor &a0: anchors and aliases are not allowed here"]


def test_text_with_ampersands_and_stars_still_loads(inv_dir: Path) -> None:
    path = inv_dir / "townships" / "east.yaml"
    text = path.read_text(encoding="utf-8").replace("name_en: East Town", 'name_en: "East & *Town*"')
    path.write_text(text, encoding="utf-8")
    assert load_inventory(inv_dir).townships["east"].name_en == "East & *Town*"

"""Shell completion generated from the parsers: bash completes sub-commands, flags and --output's
choices of the real commands; the zsh scripts load in zsh (compinit) without an error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sharpeyes.stack.completion import COMMANDS, filename, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("completion")
    assert main(["bash", "--out", str(out / "bash")]) == 0
    assert main(["zsh", "--out", str(out / "zsh")]) == 0
    return out


def _bash_complete(scripts: Path, line: str) -> list[str]:
    """What bash offers for ``line`` (the cursor at its end), through the generated script."""
    command = line.split()[0]
    fn = "_shtab_" + command.replace("-", "_")
    words = line.split() + ([""] if line.endswith(" ") else [])
    prog = (f'source {scripts / "bash" / command}\n'
            f'COMP_WORDS=({" ".join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n'
            f'COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}\n'
            f'{fn} {command} {words[-1]!r} {words[-2]!r}\nprintf "%s\\n" "${{COMPREPLY[@]}}"\n')
    proc = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    return sorted(w.strip() for w in proc.stdout.splitlines() if w.strip())


def test_one_script_per_command_and_shell(scripts: Path) -> None:
    for command in COMMANDS:
        assert (scripts / "bash" / filename(command, "bash")).is_file()
        assert (scripts / "zsh" / filename(command, "zsh")).read_text().startswith("#compdef")


def test_bash_completes_sub_commands_flags_and_choices(scripts: Path) -> None:
    assert _bash_complete(scripts, "sharpeyes-inventory st") == ["stats"]
    assert "--output" in _bash_complete(scripts, "sharpeyes-inventory stats --ou")
    assert _bash_complete(scripts, "sharpeyes-inventory stats --output ") == ["csv", "json", "table"]
    assert _bash_complete(scripts, "sharpeyes-sim fault l") == ["list"]
    assert _bash_complete(scripts, "sharpeyes-alerts ch") == ["check"]
    assert "--log.level" in _bash_complete(scripts, "sharpeyes-report monthly --log")


def test_zsh_scripts_load(scripts: Path) -> None:
    if shutil.which("zsh") is None:
        pytest.fail("zsh not found (apt-get install zsh; scripts/setup.sh installs it)")
    """On $fpath, compinit binds each command to its function, and the function's file parses."""
    for command in COMMANDS:
        fn = filename(command, "zsh")
        prog = (f"fpath=({scripts / 'zsh'} $fpath); autoload -U compinit && compinit -u -D && "
                f"autoload +X {fn} && print -r -- $_comps[{command}]")
        proc = subprocess.run(["zsh", "-f", "-c", prog], capture_output=True, text=True, timeout=30, check=False)
        assert proc.returncode == 0 and proc.stderr == "", (command, proc.stderr)
        assert proc.stdout.strip() == fn
        check = subprocess.run(["zsh", "-n", str(scripts / "zsh" / fn)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr


def test_every_console_script_has_completion() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert {name: value.split(":")[0] for name, value in scripts.items()} == \
        {name: module for name, (module, _) in COMMANDS.items()}

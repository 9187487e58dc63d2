"""The demo creates one web app login per role with random passwords, kept in a 0600 file, and the
ticket service's config it writes points the web app at the stack's own Prometheus."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.inventory import load_inventory
from sharpeyes.stack.demo import demo_accounts, pick_scenario
from sharpeyes.stack.stack import Stack, StackOptions
from sharpeyes.tickets.config import load_config


@pytest.mark.slow  # starts the tickets service
def test_demo_logins_one_per_role(tmp_path: Path) -> None:
    inv = load_inventory(SAMPLE_DISTRICT)
    accounts = demo_accounts(inv, pick_scenario(inv))
    assert {role for _, role, _ in accounts} == {"admin", "supervisor", "manager", "technician"}
    techs = [ct for _, role, ct in accounts if role == "technician"]
    assert len(set(techs)) == 2  # the fiber cut's contractor and one that must see none of it
    stack = Stack(StackOptions(inventory=SAMPLE_DISTRICT, workdir=tmp_path))
    stack.inventory_dir = SAMPLE_DISTRICT
    (tmp_path / "tickets.yaml").write_text(stack._tickets_config())
    for p in (stack.tickets_token_file, stack.webhook_token_file):
        p.write_text("demo-token-for-this-test\n")
    cfg = load_config(tmp_path / "tickets.yaml")
    assert cfg.web.base_url == stack.url("tickets") and cfg.web.prometheus_url == stack.url("prometheus")
    logins = stack.web_accounts(accounts)
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    rows = [ln.split("\t") for ln in logins.read_text().splitlines() if not ln.startswith("#")]
    assert [(r[1], r[0]) for r in rows] == [(u, role) for u, role, _ in accounts]
    passwords = [r[2] for r in rows]
    assert len(set(passwords)) == len(passwords) and all(len(p) >= 16 for p in passwords)

"""Fixtures: the simulator serving one township of a private copy of the sample district."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.discovery.disc_helpers import Sim, SimEnv, copy_inventory, write_secrets


@pytest.fixture(scope="package")  # stopped when tests/discovery is done
def sim_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimEnv]:
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("the simulator needs root and nftables")
    tmp = tmp_path_factory.mktemp("discovery-sim")
    inv = copy_inventory(tmp / "inventory")
    secrets = write_secrets(tmp / "secrets.yaml", platforms_community="public", legacy_onvif_password="12345")
    sim = Sim(inv, secrets)
    try:
        yield SimEnv(sim, inv, secrets, tmp)
    finally:
        sim.stop()

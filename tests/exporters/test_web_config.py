# ruff: noqa: E501  (a table of exact messages reads best one per line)
"""--web.config.file (exporter-toolkit format) on the real exporter process: TLS with a certificate
made here, basic auth with a bcrypt hash; plain HTTP, no or wrong credentials are refused; a bad
file is a file:line error at start and in --config.check."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import ipaddress
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sharpeyes.exporters.webconfig import WebConfigError, load_web_config

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "tests" / "inventory" / "valid_min"
PASSWORD = "web-config-test-pw-1"


def make_cert(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sharpeyes-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    cert, _ = make_cert(tmp_path)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        f"basic_auth_users:\n  prometheus: {hashed}\n"
    )
    config = tmp_path / "exporter.yml"
    config.write_text("modules:\n  icmp: {prober: icmp, timeout: 2s}\n")
    port = free_port()
    log = tmp_path / "exporter.log"
    cmd = [sys.executable, "-m", "sharpeyes.exporters.cli", "--config.file", str(config), "--inventory", str(VALID),
           "--web.listen-address", f"127.0.0.1:{port}", "--web.config.file", str(web), "--log.level", "debug"]  # fmt: skip
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        end = time.monotonic() + 30
        while "listening on https://" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < end, log.read_text()
            time.sleep(0.05)
        yield port, cert, log
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def get(port: int, cert: Path, auth: str | None) -> tuple[int, dict[str, str], str]:
    ctx = ssl.create_default_context(cafile=str(cert))
    headers = {"Authorization": auth} if auth else {}
    req = urllib.request.Request(f"https://127.0.0.1:{port}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_tls_and_basic_auth_on_the_real_process(served: tuple[int, Path, Path]) -> None:
    port, cert, log = served
    status, headers, body = get(port, cert, basic("prometheus", PASSWORD))
    assert status == 200 and "sharpeyes_exporter_inventory_last_reload_successful 1.0" in body
    assert headers["X-Frame-Options"] == "deny"
    assert get(port, cert, basic("prometheus", PASSWORD))[0] == 200  # the verified pair is remembered
    for auth in (None, basic("prometheus", "wrong"), basic("nobody", PASSWORD), "Basic !!!", "Bearer x"):
        status, headers, _ = get(port, cert, auth)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic"), auth
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # plain HTTP on the TLS port
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        conn.request("GET", "/metrics")
        conn.getresponse().read()
    conn.close()
    assert PASSWORD not in log.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n", "web.yml:2: tls_server_config: field 'cert_file': cannot load certificate"),
        ("basic_auth_users:\n  p: secret\n", "web.yml:2: basic_auth_users: field 'p': not a bcrypt hash"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n", "web.yml:4: tls_server_config: field 'cipher_suites': not supported"),
        ("tls_config: {}\n", "web.yml:1: field 'tls_config': unknown key"),
    ],
)  # fmt: skip
def test_bad_web_config_is_a_file_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "web.yml"
    path.write_text(text)
    with pytest.raises(WebConfigError) as info:
        load_web_config(path)
    assert any(str(p).startswith(str(tmp_path / message)) for p in info.value.problems), info.value.problems


def test_config_check_names_the_bad_web_config(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n  p: secret\n")
    config = tmp_path / "exporter.yml"
    config.write_text("modules:\n  icmp: {prober: icmp, timeout: 2s}\n")
    run = subprocess.run(
        [sys.executable, "-m", "sharpeyes.exporters.cli", "--config.file", str(config), "--inventory", str(VALID),
         "--web.config.file", str(path), "--config.check"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert f"{path}:2: basic_auth_users: field 'p': not a bcrypt hash" in run.stderr

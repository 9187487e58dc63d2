"""Credentials: strict parsing, secrets never shown; USM key derivation against RFC 3414's own
test vectors; v3 messages round-trip and fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharpeyes.exporters.snmp import ber, v3
from sharpeyes.exporters.snmp.auth import SnmpAuth, SnmpConfigError
from sharpeyes.exporters.snmp.probing import SnmpSettings

V3 = {
    "version": 3,
    "username": "sharpeyes",
    "auth_protocol": "SHA",
    "auth_password": "Secret-Auth-123",
    "priv_protocol": "AES128",
    "priv_password": "Secret-Priv-456",
}


def test_repr_and_str_never_show_secrets() -> None:
    auth = SnmpAuth.from_dict(V3, "auths.snmp-v3-cams.snmp")
    v2 = SnmpAuth.from_dict({"version": "2c", "community": "Sharp-Eyes-RO"}, "x")
    for text in (repr(auth), str(auth), repr(v2), f"{v2}", str(auth.redacted()), str(v2.redacted())):
        assert "Secret" not in text and "Sharp-Eyes-RO" not in text
    assert "auth_password=<secret>" in repr(auth)
    assert "community=<secret>" in repr(v2)
    assert auth.priv_protocol == "AES" and auth.username == "sharpeyes"
    assert v2.redacted() == {**SnmpAuth().redacted(), "community": "<secret>"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**V3, "passwrd": "x"}, r"auths.p.snmp: unknown key\(s\) passwrd"),
        ({**V3, "version": 1}, r"auths.p.snmp.version: must be 2 \(v2c\) or 3"),
        ({**V3, "auth_protocol": "SHA1"}, r"auths.p.snmp.auth_protocol: must be one of"),
        ({**V3, "priv_protocol": "3DES"}, r"auths.p.snmp.priv_protocol: must be one of"),
        ({**V3, "security_level": "authpriv"}, r"auths.p.snmp.security_level"),
        ({**V3, "username": ""}, r"auths.p.snmp.username: required"),
        ({**V3, "username": 7}, r"auths.p.snmp.username: expected a string"),
        ({**V3, "auth_password": "short"}, r"auths.p.snmp.auth_password: required, at least 8"),
        ({**V3, "community": "public"}, r"auths.p.snmp.community: only valid with version 2"),
        (
            {"version": 2, "community": "c", "username": "u"},
            r"auths.p.snmp.username: only valid with version 3",
        ),
        ({"version": 2, "community": ""}, r"auths.p.snmp.community: must not be empty"),
        (
            {"version": 2, "community": "a", "community_env": "B"},
            r"give only one of community, community_env",
        ),
        (
            {"version": 2, "community_env": "SHARPEYES_NOT_SET_ANYWHERE"},
            r"community_env: environment variable",
        ),
        ("version: 3", r"auths.p.snmp: expected a mapping"),
    ],
)
def test_strict_parsing_names_the_field(data: object, message: str) -> None:
    with pytest.raises(SnmpConfigError, match=message) as info:
        SnmpAuth.from_dict(data, "auths.p.snmp")  # type: ignore[arg-type]
    assert "Secret" not in str(info.value) and "short" not in str(info.value)


def test_secrets_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SE_AUTH", "from-the-environment")
    secret = tmp_path / "priv"
    secret.write_text("from-a-file-123\n")
    auth = SnmpAuth.from_dict(
        {"version": 3, "username": "u", "auth_password_env": "SE_AUTH", "priv_password_file": str(secret)},
        "a",
    )
    assert auth.auth_password == "from-the-environment"
    assert auth.priv_password == "from-a-file-123"
    with pytest.raises(SnmpConfigError, match=r"a.priv_password_file: cannot read"):
        SnmpAuth.from_dict({"version": 3, "username": "u", "priv_password_file": str(tmp_path / "none")}, "a")


def test_settings_parsing() -> None:
    s = SnmpSettings.from_dict({"retries": 2, "port": 1161, "auth": {"community": "c"}}, "modules.m.snmp")
    assert (s.retries, s.port, s.auth) == (2, 1161, SnmpAuth(community="c"))
    with pytest.raises(SnmpConfigError, match=r"modules.m.snmp: unknown key\(s\) walk"):
        SnmpSettings.from_dict({"walk": True}, "modules.m.snmp")
    with pytest.raises(SnmpConfigError, match=r"modules.m.snmp.huawei_optical_unit"):
        SnmpSettings.from_dict({"huawei_optical_unit": "dbm"}, "modules.m.snmp")
    with pytest.raises(SnmpConfigError, match=r"modules.m.snmp.retries"):
        SnmpSettings.from_dict({"retries": True}, "modules.m.snmp")
    with pytest.raises(SnmpConfigError, match=r"modules.m.snmp.auth.version"):
        SnmpSettings.from_dict({"auth": {"version": 4}}, "modules.m.snmp")


# -- USM -------------------------------------------------------------------------------------

ENGINE = bytes.fromhex("000000000000000000000002")


def test_password_to_key_rfc3414_a3_vectors() -> None:
    # RFC 3414 appendix A.3.1 (MD5) and A.3.2 (SHA), password "maplesyrup"
    assert v3.password_to_key("MD5", "maplesyrup").hex() == "9faf3283884e92834ebc9847d8edd963"
    assert v3.localize_key("MD5", "maplesyrup", ENGINE).hex() == "526f5eed9fcce26f8964c2930787d82b"
    assert v3.password_to_key("SHA", "maplesyrup").hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    assert v3.localize_key("SHA", "maplesyrup", ENGINE).hex() == "6695febc9288e36282235fc7151f128497b38f3f"


AUTH = SnmpAuth(
    version=3, username="sharpeyes", auth_password="auth-pass-7Hq2", priv_password="priv-pass-3Zk9"
)
STATE = v3.EngineState(bytes.fromhex("80001f8880a1b2c3d4"), boots=7, time=1000, local_time=0.0)


@pytest.mark.parametrize(
    "auth",
    [
        AUTH,
        SnmpAuth(
            version=3,
            username="legacy",
            auth_protocol="MD5",
            auth_password="auth-pass-7Hq2",
            priv_protocol="DES",
            priv_password="priv-pass-3Zk9",
        ),
        SnmpAuth(
            version=3,
            username="a",
            auth_protocol="SHA256",
            auth_password="auth-pass-7Hq2",
            security_level="authNoPriv",
        ),
        SnmpAuth(version=3, username="n", security_level="noAuthNoPriv"),
    ],
    ids=["sha-aes", "md5-des", "sha256-nopriv", "noauth"],
)
def test_v3_message_round_trip(auth: SnmpAuth) -> None:
    keys = v3.keys_for(auth, STATE.engine_id)
    pdu = ber.encode_response(4242, [("1.3.6.1.2.1.1.3.0", ber.TIMETICKS, 28156805)])
    msg = v3.encode_message(4242, pdu, auth, STATE, keys, clock=5.0)
    assert v3.peek_msg_id(msg) == 4242
    got = v3.decode_message(msg, auth, keys)
    assert got.pdu is not None and got.pdu.varbinds == [("1.3.6.1.2.1.1.3.0", 28156805)]
    assert (got.engine_id, got.boots, got.time, got.user) == (
        STATE.engine_id,
        7,
        1005,
        auth.username.encode(),
    )
    if auth.priv_enabled:
        assert b"\x2b\x06\x01\x02\x01\x01\x03\x00" not in msg  # the OID is not visible on the wire


def test_v3_tampering_and_wrong_keys_fail_closed() -> None:
    keys = v3.keys_for(AUTH, STATE.engine_id)
    pdu = ber.encode_response(1, [("1.3.6.1.2.1.1.5.0", ber.OCTET_STRING, b"sw-01")])
    msg = v3.encode_message(1, pdu, AUTH, STATE, keys, clock=0.0)
    flipped = bytearray(msg)
    flipped[-3] ^= 0x01
    with pytest.raises(v3.UsmError, match="wrong digest"):
        v3.decode_message(bytes(flipped), AUTH, keys)
    other = v3.keys_for(
        SnmpAuth(version=3, username="sharpeyes", auth_password="another-pass", priv_password="x" * 8),
        STATE.engine_id,
    )
    with pytest.raises(v3.UsmError, match="wrong digest"):
        v3.decode_message(msg, AUTH, other)
    with pytest.raises(v3.UsmError, match="without our keys"):
        v3.decode_message(msg, None, None)
    for n in range(len(msg)):
        with pytest.raises(ber.BerError):
            v3.decode_message(msg[:n], AUTH, keys)


def test_discovery_message_shape() -> None:
    msg = v3.encode_message(9, ber.encode_pdu(ber.GET_REQUEST, 9, []), None, None, None, 0)
    got = v3.decode_message(msg, None, None)
    assert got.flags == v3.FLAG_REPORTABLE and got.engine_id == b"" and got.user == b""
    assert got.pdu is not None and got.pdu.pdu_type == ber.GET_REQUEST and got.pdu.varbinds == []

"""Shared test data of the exporter tests (imported by name: a conftest cannot be, reliably)."""

from __future__ import annotations

# Demo secrets in the layout of var/sim-secrets.yaml (simulator/secrets.py: auths.<profile>.<snmp|onvif>),
# read by the embedded exporters/default.yml through $SHARPEYES_SECRETS. Test values only.
DEMO_SECRETS = {
    "cams-v3": {"snmp": {"username": "cam-v3-user", "auth_password": "S3cr3t-cam-auth",
                         "priv_password": "S3cr3t-cam-priv"},
                "onvif": {"username": "admin", "password": "S3cr3t-onvif-v3"}},
    "cams-legacy": {"snmp": {"community": "S3cr3t-legacy-comm"},
                    "onvif": {"username": "admin", "password": "S3cr3t-onvif-legacy"}},
    "switches-v3": {"snmp": {"username": "sw-v3-user", "auth_password": "S3cr3t-sw-auth",
                             "priv_password": "S3cr3t-sw-priv"}},
    "switches-v2c": {"snmp": {"community": "S3cr3t-sw-comm"}},
    "platforms": {"snmp": {"community": "S3cr3t-plat-comm"}},
}


def secret_values() -> list[str]:
    """Every secret string of DEMO_SECRETS (usernames excluded): none may ever be printed."""
    out = []
    for profile in DEMO_SECRETS.values():
        for section in profile.values():
            out += [v for k, v in section.items() if k != "username"]
    return out

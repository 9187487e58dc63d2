# Deliberately separate from sharpeyes/exporters/snmp/v3.py: a test bed built from the code it tests proves nothing.
"""SNMPv3 user-based security (RFC 3414) with AES-128-CFB privacy (RFC 3826), agent side.

Only what a monitoring agent needs: HMAC-SHA-96 (and HMAC-MD5-96) authentication, AES-128 privacy,
password-to-key and key localisation, engine discovery and timeliness. Keys are derived lazily and
cached per (password, engine ID); secrets never appear in repr, logs or errors.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # cryptography >= 43 keeps CFB among the "decrepit" modes
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB  # type: ignore[assignment]

# usmStats counters (RFC 3414 §5): the OIDs a REPORT carries
UNSUPPORTED_SEC_LEVELS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 1, 0)
NOT_IN_TIME_WINDOWS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0)
UNKNOWN_USER_NAMES = (1, 3, 6, 1, 6, 3, 15, 1, 1, 3, 0)
UNKNOWN_ENGINE_IDS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0)
WRONG_DIGESTS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 5, 0)
DECRYPTION_ERRORS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 6, 0)

TIME_WINDOW_S = 150
AUTH_PARAMS_LEN = 12
_HASHES = {"MD5": "md5", "SHA": "sha1"}


@dataclass(frozen=True, slots=True)
class UsmUser:
    """One v3 user of an auth profile. ``auth``/``priv`` are protocol names or "" when not used."""

    name: str
    auth: str = "SHA"
    auth_password: str = field(default="", repr=False)
    priv: str = "AES"
    priv_password: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"UsmUser(name={self.name!r}, auth={self.auth!r}, priv={self.priv!r}, passwords=<secret>)"

    @property
    def level(self) -> int:
        """msgFlags bits the user requires: 0 noAuthNoPriv, 1 authNoPriv, 3 authPriv."""
        return (1 if self.auth else 0) | (2 if self.priv else 0)


@lru_cache(maxsize=64)
def password_to_key(password: str, algo: str) -> bytes:
    """RFC 3414 A.2: hash 1 MiB of the repeated password."""
    pw = password.encode()
    h = hashlib.new(_HASHES[algo])
    block = pw * (64 // len(pw) + 2)
    n = 0
    while n < 1048576:
        start = n % len(pw)
        h.update(block[start : start + 64])
        n += 64
    return h.digest()


@lru_cache(maxsize=16384)
def localized_key(password: str, algo: str, engine_id: bytes) -> bytes:
    ku = password_to_key(password, algo)
    return hashlib.new(_HASHES[algo], ku + engine_id + ku).digest()


def sign(key: bytes, algo: str, message: bytes) -> bytes:
    return hmac.new(key, message, _HASHES[algo]).digest()[:AUTH_PARAMS_LEN]


def aes_cfb(key: bytes, boots: int, engine_time: int, salt: bytes, data: bytes, encrypt: bool) -> bytes:
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt
    cipher = Cipher(algorithms.AES(key[:16]), CFB(iv))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def engine_id_for(enterprise: int, mac: str) -> bytes:
    """RFC 3411 SnmpEngineID, format 3 (MAC address) under the vendor's enterprise number."""
    raw = bytes.fromhex(mac.replace(":", "").replace("-", "")) if mac else b"\x00" * 6
    return (0x80000000 | enterprise).to_bytes(4, "big") + b"\x03" + raw[:6]

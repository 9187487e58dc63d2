"""Bearer tokens with roles. Only SHA-256 digests are kept; tokens are never logged.

Roles: ``district`` sees and acts on every ticket; ``contractor`` only on tickets assigned to its
contractor id (others answer 404, as if they did not exist); ``webhook`` may only post
Alertmanager notifications.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tickets.config import Token


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    contractor: str = ""

    @property
    def is_district(self) -> bool:
        return "district" in self.roles

    def can_see(self, contractor: str) -> bool:
        return self.is_district or ("contractor" in self.roles and contractor == self.contractor)


class Authenticator:
    def __init__(self, tokens: tuple[Token, ...]) -> None:
        # Looking up by digest compares digests, not secrets: no timing side channel on the token.
        self._by_digest = {t.digest: t for t in tokens}

    def authenticate(self, authorization: str | None) -> Principal | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        t = self._by_digest.get(hashlib.sha256(token.strip().encode()).hexdigest())
        if t is None:
            return None
        return Principal(t.name, t.roles, t.contractor)

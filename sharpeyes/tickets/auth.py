"""Bearer tokens with roles. Only SHA-256 digests are kept; tokens are never logged.

Token roles: ``district`` sees and acts on every ticket; ``contractor`` only on tickets assigned to its
contractor id (others answer 404, as if they did not exist); ``webhook`` may only post
Alertmanager notifications. People logged in to the web app are principals too, with one of the
person roles (technician, manager, supervisor, admin); ``tickets.scope`` says what each may see.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sharpeyes.tickets.config import Token


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    contractor: str = ""
    # townships a technician covers (empty: all of the contractor's)
    zones: frozenset[str] = frozenset()

    @property
    def is_district(self) -> bool:
        """Sees every contractor's tickets: the district token, supervisors and admins."""
        return bool(self.roles & {"district", "supervisor", "admin"})


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

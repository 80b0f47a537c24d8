"""API keys: stored as SHA-256 hashes, compared in constant time, each with a role and optional collections.

A key entry is ``name:role:sha256hex`` or ``name:role:sha256hex:coll1|coll2`` (the key may then only
use those collections). Entries come from ``QA_AUTH__KEYS`` (comma-separated) and/or the lines of
``QA_AUTH__KEYS_FILE`` (``#`` starts a comment). ``qa-service keys create`` makes a key and its entry.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from qa_service.errors import ConfigurationError, ForbiddenError, UnauthenticatedError
from qa_service.settings import AuthSettings

Role = Literal["reader", "writer"]
_ENTRY = re.compile(r"^(?P<name>[\w.-]{1,64}):(?P<role>reader|writer):(?P<hash>[0-9a-f]{64})(?::(?P<colls>[\w|-]+))?$")
KEY_PREFIX = "qa_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name, its role, and the collections it may use (None = all)."""

    name: str
    role: Role
    collections: frozenset[str] | None = None

    def require(self, role: Role) -> None:
        if role == "writer" and self.role != "writer":
            raise ForbiddenError(f"key {self.name!r} is a reader; this needs a writer key", code="writer_required")

    def require_collection(self, collection: str) -> None:
        if self.collections is not None and collection not in self.collections:
            raise ForbiddenError(
                f"key {self.name!r} may not use collection {collection!r}", code="collection_forbidden"
            )

    def may_use(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections


# Used when no keys are configured (the service then only listens on loopback, unless allowed).
OPEN_ACCESS = Principal(name="anonymous", role="writer")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits): hashing it with plain SHA-256 is enough, unlike a password."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_entry(name: str, role: Role, key: str, collections: list[str] | None = None) -> str:
    entry = f"{name}:{role}:{hash_key(key)}"
    return entry + (":" + "|".join(collections) if collections else "")


@dataclass(frozen=True, slots=True)
class _StoredKey:
    digest: bytes
    principal: Principal


class KeyRing:
    """The configured keys; ``authenticate`` maps a presented key to its principal."""

    def __init__(self, entries: list[str]) -> None:
        self._keys: list[_StoredKey] = []
        for entry in entries:
            match = _ENTRY.fullmatch(entry.strip())
            if match is None:
                shown = entry.strip()[:24]
                raise ConfigurationError(f"invalid API key entry {shown!r}…: expected name:role:sha256hex[:colls]")
            colls = match["colls"]
            principal = Principal(
                name=match["name"],
                role=match["role"],  # type: ignore[arg-type]
                collections=frozenset(colls.split("|")) if colls else None,
            )
            self._keys.append(_StoredKey(bytes.fromhex(match["hash"]), principal))

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> KeyRing:
        entries = [e for e in auth.keys.split(",") if e.strip()]
        if auth.keys_file is not None:
            try:
                lines = auth.keys_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigurationError(f"cannot read QA_AUTH__KEYS_FILE {auth.keys_file}: {exc.strerror}") from None
            entries += [line.split("#", 1)[0] for line in lines if line.split("#", 1)[0].strip()]
        return cls(entries)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, presented: str | None) -> Principal:
        """The principal of ``presented``; every stored hash is compared, in constant time."""
        if not self.enabled:
            return OPEN_ACCESS
        if not presented:
            raise UnauthenticatedError("an API key is required (Authorization: Bearer <key>)", code="missing_key")
        digest = hashlib.sha256(presented.encode("utf-8")).digest()
        found: Principal | None = None
        for stored in self._keys:  # no early exit: the time taken does not depend on which key matched
            if hmac.compare_digest(digest, stored.digest):
                found = stored.principal
        if found is None:
            raise UnauthenticatedError("unknown API key", code="invalid_key")
        return found


def check_bind_address(host: str, keys: KeyRing, auth: AuthSettings) -> None:
    """Refuse to serve an open service on a non-loopback address unless explicitly allowed."""
    if keys.enabled or auth.allow_open_bind or _is_loopback(host):
        return
    raise ConfigurationError(
        f"refusing to listen on {host} without API keys: set QA_AUTH__KEYS or QA_AUTH__KEYS_FILE, "
        "or QA_AUTH__ALLOW_OPEN_BIND=true when a trusted gateway in front does the authentication"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

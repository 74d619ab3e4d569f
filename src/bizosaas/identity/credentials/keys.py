"""Signing keys for access tokens: Ed25519, kept in `<data dir>/keys/`, rotatable without
logging anyone out.

Layout: one `<kid>.pem` per key (PKCS#8, mode 0600) and a `current` file naming the key that
signs. `kid` is the key's RFC 7638 JWK thumbprint. Rotation writes a new key and points
`current` at it; older keys stay published in the JWKS document (so tokens they signed keep
verifying until they expire) and are pruned once more than `KEEP_KEYS` exist. Every process
sharing the directory notices a rotation within `RELOAD_INTERVAL` seconds, and at once when
asked to verify a token signed by a key it has not loaded yet.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bizosaas.kit.jwks import ALGORITHM

KEEP_KEYS = 3
RELOAD_INTERVAL = 5.0
_CURRENT = "current"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace."""
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":")
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    created_at: float

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        return {**public_jwk(self.public_key), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


class KeyStore:
    """The process's view of the key directory."""

    def __init__(self, directory: Path, *, reload_interval: float = RELOAD_INTERVAL) -> None:
        self.directory = directory
        self.reload_interval = reload_interval
        self._keys: dict[str, SigningKey] = {}
        self._current_kid: str | None = None
        self._loaded_at = 0.0
        self._current_mtime = 0.0
        self._forced_reload_at = 0.0

    @classmethod
    def open(cls, directory: Path) -> KeyStore:
        """Load the keys, creating the first one if the directory has none."""
        store = cls(directory)
        store.ensure_key()
        store.reload()
        return store

    # -- files ------------------------------------------------------------------------

    def _write_key(self) -> SigningKey:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_key = Ed25519PrivateKey.generate()
        kid = thumbprint(public_jwk(private_key.public_key()))
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.directory / f"{kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return SigningKey(kid=kid, private_key=private_key, created_at=time.time())

    def _point_current_at(self, kid: str, *, exclusive: bool) -> str:
        """Make `kid` current; with `exclusive`, only if no key is current yet (first start of
        several processes at once: the first writer wins, the others adopt its key)."""
        path = self.directory / _CURRENT
        if exclusive:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return path.read_text(encoding="ascii").strip()
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(kid)
            return kid
        temporary = self.directory / f".{_CURRENT}.{os.getpid()}.tmp"
        temporary.write_text(kid, encoding="ascii")
        os.replace(temporary, path)
        return kid

    def ensure_key(self) -> None:
        if (self.directory / _CURRENT).exists():
            return
        key = self._write_key()
        winner = self._point_current_at(key.kid, exclusive=True)
        if winner != key.kid:
            (self.directory / f"{key.kid}.pem").unlink(missing_ok=True)

    def reload(self) -> None:
        keys: dict[str, SigningKey] = {}
        for path in sorted(self.directory.glob("*.pem")):
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                continue
            kid = path.stem
            keys[kid] = SigningKey(kid=kid, private_key=loaded, created_at=path.stat().st_mtime)
        current_path = self.directory / _CURRENT
        current = current_path.read_text(encoding="ascii").strip()
        if current not in keys:
            raise RuntimeError(f"signing key {current!r} named in {current_path} is missing")
        self._keys = keys
        self._current_kid = current
        self._current_mtime = current_path.stat().st_mtime
        self._loaded_at = time.monotonic()

    def _maybe_reload(self) -> None:
        if time.monotonic() - self._loaded_at < self.reload_interval:
            return
        self._loaded_at = time.monotonic()
        with contextlib.suppress(OSError):
            if (self.directory / _CURRENT).stat().st_mtime != self._current_mtime:
                self.reload()

    def rotate(self) -> SigningKey:
        """Create a new signing key and make it current; prune all but the newest KEEP_KEYS."""
        self.ensure_key()
        key = self._write_key()
        self._point_current_at(key.kid, exclusive=False)
        self.reload()
        for old in sorted(self._keys.values(), key=lambda k: k.created_at)[:-KEEP_KEYS]:
            if old.kid != key.kid:
                (self.directory / f"{old.kid}.pem").unlink(missing_ok=True)
        self.reload()
        return key

    # -- use --------------------------------------------------------------------------

    @property
    def current(self) -> SigningKey:
        self._maybe_reload()
        assert self._current_kid is not None
        return self._keys[self._current_kid]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._forced_reload_at >= 1.0:
            # A key made by a rotation in another process: look at the directory once more
            # (at most once a second, so tokens with made-up kids cannot keep the disk busy).
            self._forced_reload_at = time.monotonic()
            with contextlib.suppress(OSError, RuntimeError):
                self.reload()
            key = self._keys.get(kid)
        return key.public_key if key else None

    def still_publishes(self, kid: str) -> bool:
        """Whether `kid` is still one of the keys (a pruned key is retired: its tokens die),
        as of the last look at the directory (at most `reload_interval` old)."""
        self._maybe_reload()
        return kid in self._keys

    def jwks(self) -> dict[str, Any]:
        self._maybe_reload()
        ordered = sorted(self._keys.values(), key=lambda k: k.kid != self._current_kid)
        return {"keys": [key.jwk() for key in ordered]}

"""Authenticated encryption of application secrets at rest (AES-256-GCM).

A sealed value is text: `bze1:<kid>:<base64url(nonce || ciphertext || tag)>`. The key id lets
keys rotate: a `Keyring` encrypts with its current key and decrypts with any key it holds.
The associated data (e.g. the owning row's id) is authenticated but not stored: a ciphertext
copied to another row, or changed in any way, does not decrypt.

Keys come from the setting `BIZOSAAS_DATA_ENCRYPTION_KEY` (base64 of 32 random bytes; several
separated by commas, the first encrypting, for rotation: every process of a scaled deployment
must share them) or, in embedded mode, from `<data dir>/keys/`, where the first start writes
one (`dek-<kid>.key`, mode 0600) and names it in `dek-current`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEME = "bze1"
KEY_BYTES = 32
NONCE_BYTES = 12
_CURRENT = "dek-current"


class DecryptionFailed(Exception):
    """The value is not a sealed value, its key is unknown, or it was tampered with."""


class MissingDataKey(RuntimeError):
    """No data-encryption key is configured or kept in the key directory."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class DataKey:
    kid: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_bytes(cls, secret: bytes) -> DataKey:
        if len(secret) != KEY_BYTES:
            raise ValueError(f"a data-encryption key is {KEY_BYTES} bytes")
        kid = _b64url(hashlib.sha256(b"bizosaas-data-key:" + secret).digest())[:10]
        return cls(kid=kid, secret=secret)

    @classmethod
    def from_base64(cls, text: str) -> DataKey:
        try:
            standard = text.strip().replace("-", "+").replace("_", "/")
            raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("a data-encryption key is base64 text") from error
        return cls.from_bytes(raw)

    @classmethod
    def generate(cls) -> DataKey:
        return cls.from_bytes(secrets.token_bytes(KEY_BYTES))


def is_sealed(value: str) -> bool:
    return value.startswith(SCHEME + ":")


def encrypt(plaintext: str, *, key: DataKey, associated_data: bytes) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key.secret).encrypt(nonce, plaintext.encode("utf-8"), associated_data)
    return f"{SCHEME}:{key.kid}:{_b64url(nonce + sealed)}"


def decrypt(value: str, *, keys: Keyring, associated_data: bytes) -> str:
    scheme, _, rest = value.partition(":")
    kid, _, payload = rest.partition(":")
    key = keys.get(kid)
    if scheme != SCHEME or key is None or not payload:
        raise DecryptionFailed("not sealed by a known data-encryption key")
    try:
        raw = _unb64url(payload)
        plain = AESGCM(key.secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
    except (InvalidTag, ValueError, binascii.Error) as error:
        raise DecryptionFailed("the sealed value was altered or belongs elsewhere") from error
    return plain.decode("utf-8")


class Keyring:
    """The data-encryption keys of a process: `current` encrypts, every key decrypts."""

    def __init__(self, current: DataKey, older: list[DataKey] | None = None) -> None:
        self.current = current
        self._keys = {key.kid: key for key in [*(older or []), current]}

    def get(self, kid: str) -> DataKey | None:
        return self._keys.get(kid)

    def encrypt(self, plaintext: str, *, associated_data: bytes) -> str:
        return encrypt(plaintext, key=self.current, associated_data=associated_data)

    def decrypt(self, value: str, *, associated_data: bytes) -> str:
        return decrypt(value, keys=self, associated_data=associated_data)

    def fingerprint(self, message: bytes, *, purpose: bytes) -> str:
        """A keyed digest (HMAC-SHA256 under the current key, hex, 32 characters) that tells
        equal messages apart from different ones without revealing them, even to a reader of
        the store it is kept in. It changes when the current key rotates."""
        digest = hmac.new(self.current.secret, purpose + b"\0" + message, hashlib.sha256)
        return digest.hexdigest()[:32]

    @classmethod
    def from_setting(cls, configured: str) -> Keyring:
        keys = [DataKey.from_base64(part) for part in configured.split(",") if part.strip()]
        if not keys:
            raise ValueError("the data-encryption key setting is empty")
        return cls(keys[0], keys[1:])

    @classmethod
    def open(
        cls, directory: Path, *, configured: str | None = None, create: bool = True
    ) -> Keyring:
        """Keys from the setting when given (with any key files kept for decryption);
        otherwise the key files, writing the first key on first start unless `create` is
        false (then MissingDataKey when there is none)."""
        if configured:
            setting = cls.from_setting(configured)
            return cls(setting.current, [*_read_keys(directory).values(), *setting._keys.values()])
        if create:
            ensure_key(directory)
        elif not (directory / _CURRENT).exists():
            raise MissingDataKey(f"no data-encryption key is set and {directory} holds none")
        keys = _read_keys(directory)
        current = (directory / _CURRENT).read_text(encoding="ascii").strip()
        if current not in keys:
            raise MissingDataKey(f"data-encryption key {current!r} is missing from {directory}")
        return cls(keys[current], list(keys.values()))


def _read_keys(directory: Path) -> dict[str, DataKey]:
    keys: dict[str, DataKey] = {}
    for path in sorted(directory.glob("dek-*.key")):
        key = DataKey.from_base64(path.read_text(encoding="ascii"))
        keys[key.kid] = key
    return keys


def ensure_key(directory: Path) -> None:
    """Write the first data-encryption key (0600) unless one is current; when processes start
    at once, the first to name its key wins and the others remove theirs."""
    if (directory / _CURRENT).exists():
        return
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = DataKey.generate()
    path = directory / f"dek-{key.kid}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key.secret).decode("ascii"))
    try:
        fd = os.open(directory / _CURRENT, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.unlink(missing_ok=True)
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.kid)

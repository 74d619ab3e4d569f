"""Sealing secrets at rest: AES-GCM with a key id, bound to associated data."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from bizosaas.kit import crypto
from bizosaas.kit.crypto import DataKey, DecryptionFailed, Keyring

SECRET = "JBSWY3DPEHPK3PXP"
OWNER = b"users.totp_secret:owner-1"


def test_a_sealed_value_round_trips_and_hides_the_plaintext() -> None:
    keys = Keyring(DataKey.generate())
    sealed = keys.encrypt(SECRET, associated_data=OWNER)
    assert crypto.is_sealed(sealed) and not crypto.is_sealed(SECRET)
    assert sealed.startswith(f"bze1:{keys.current.kid}:")
    assert SECRET not in sealed
    assert keys.encrypt(SECRET, associated_data=OWNER) != sealed, "a fresh nonce each time"
    assert keys.decrypt(sealed, associated_data=OWNER) == SECRET


def test_tampering_another_owner_or_an_unknown_key_fails() -> None:
    keys = Keyring(DataKey.generate())
    sealed = keys.encrypt(SECRET, associated_data=OWNER)
    with pytest.raises(DecryptionFailed):
        keys.decrypt(sealed, associated_data=b"users.totp_secret:owner-2")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionFailed):
        keys.decrypt(flipped, associated_data=OWNER)
    with pytest.raises(DecryptionFailed):
        Keyring(DataKey.generate()).decrypt(sealed, associated_data=OWNER)
    with pytest.raises(DecryptionFailed):
        keys.decrypt(SECRET, associated_data=OWNER)


def test_rotation_encrypts_with_the_first_key_and_decrypts_with_all() -> None:
    old, new = DataKey.generate(), DataKey.generate()
    sealed_old = Keyring(old).encrypt(SECRET, associated_data=OWNER)
    setting = ",".join(base64.b64encode(k.secret).decode() for k in (new, old))
    rotated = Keyring.from_setting(setting)
    assert rotated.current.kid == new.kid
    assert rotated.decrypt(sealed_old, associated_data=OWNER) == SECRET
    assert rotated.encrypt(SECRET, associated_data=OWNER).split(":")[1] == new.kid
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring.from_setting(base64.b64encode(b"short").decode())


def test_the_first_start_writes_a_private_key_that_later_starts_reuse(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    first = Keyring.open(directory)
    files = list(directory.glob("dek-*.key"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    again = Keyring.open(directory)
    assert again.current.kid == first.current.kid
    sealed = first.encrypt(SECRET, associated_data=OWNER)
    assert again.decrypt(sealed, associated_data=OWNER) == SECRET
    # A configured key takes over encryption; the file key still opens older values.
    configured = DataKey.generate()
    shared = Keyring.open(directory, configured=base64.b64encode(configured.secret).decode())
    assert shared.current.kid == configured.kid
    assert shared.decrypt(sealed, associated_data=OWNER) == SECRET


def test_fingerprints_tell_equal_messages_apart_without_revealing_them() -> None:
    keys = Keyring(DataKey.generate())
    first = keys.fingerprint(b"alice@example.com\0hunter2", purpose=b"login-failure")
    assert first == keys.fingerprint(b"alice@example.com\0hunter2", purpose=b"login-failure")
    assert len(first) == 32 and b"hunter2".hex() not in first
    assert first != keys.fingerprint(b"alice@example.com\0hunter3", purpose=b"login-failure")
    assert first != keys.fingerprint(b"alice@example.com\0hunter2", purpose=b"other")
    other_keys = Keyring(DataKey.generate())
    assert first != other_keys.fingerprint(b"alice@example.com\0hunter2", purpose=b"login-failure")

"""Device cookies: sealed, bound to one account, expiring, several accounts per browser."""

from __future__ import annotations

import uuid

from bizosaas.identity.credentials.device_cookies import MAX_ACCOUNTS, device_for, renewed
from bizosaas.kit.crypto import DataKey, Keyring

TTL = 1000.0


def test_a_cookie_names_its_account_and_keeps_the_device_id() -> None:
    keys = Keyring(DataKey.generate())
    alice, bob = uuid.uuid4(), uuid.uuid4()
    cookie = renewed(keys, None, user_id=alice, device_id=None, now=0.0, ttl=TTL)
    device = device_for(keys, cookie, user_id=alice, now=1.0, ttl=TTL)
    assert device is not None
    assert device_for(keys, cookie, user_id=bob, now=1.0, ttl=TTL) is None
    again = renewed(keys, cookie, user_id=alice, device_id=device, now=500.0, ttl=TTL)
    assert device_for(keys, again, user_id=alice, now=1400.0, ttl=TTL) == device
    assert device_for(keys, cookie, user_id=alice, now=TTL, ttl=TTL) is None  # expired


def test_a_shared_browser_keeps_the_latest_accounts() -> None:
    keys = Keyring(DataKey.generate())
    people = [uuid.uuid4() for _ in range(MAX_ACCOUNTS + 1)]
    cookie = None
    for n, person in enumerate(people):
        cookie = renewed(keys, cookie, user_id=person, device_id=None, now=float(n), ttl=TTL)
    known = [device_for(keys, cookie, user_id=p, now=10.0, ttl=TTL) is not None for p in people]
    assert known == [False] + [True] * MAX_ACCOUNTS


def test_a_forged_or_foreign_cookie_proves_nothing() -> None:
    keys, other_keys = Keyring(DataKey.generate()), Keyring(DataKey.generate())
    alice = uuid.uuid4()
    cookie = renewed(keys, None, user_id=alice, device_id="d1", now=0.0, ttl=TTL)
    assert device_for(other_keys, cookie, user_id=alice, now=1.0, ttl=TTL) is None
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    assert device_for(keys, tampered, user_id=alice, now=1.0, ttl=TTL) is None
    assert device_for(keys, "garbage", user_id=alice, now=1.0, ttl=TTL) is None
    assert device_for(keys, "x" * 5000, user_id=alice, now=1.0, ttl=TTL) is None

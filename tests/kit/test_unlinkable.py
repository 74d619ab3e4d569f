"""Names quoted in mail are never shaped like a link."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bizosaas.kit.text import unlinkable

# What mail clients' auto-linkers look for: a scheme, or a dot / at sign inside a word.
LINK_SHAPED = re.compile(r"://|\w[.@\uff0e\u3002\uff61]\w")


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("Acme Ltd.", "Acme Ltd."),
        ("Bean & Co", "Bean & Co"),
        ("visit https://bank.example/login", "visit https[:]//bank[.]example/login"),
        ("mail joe@evil.io", "mail joe[@]evil[.]io"),
        ("www.evil.example", "www[.]evil[.]example"),
        ("evil\u3002example", "evil[\u3002]example"),
    ],
)
def test_link_shaped_parts_are_bracketed(name: str, quoted: str) -> None:
    assert unlinkable(name) == quoted


@given(st.text(alphabet=st.sampled_from("ab1.@:/ \u3002"), max_size=40))
def test_nothing_link_shaped_survives(name: str) -> None:
    assert LINK_SHAPED.search(unlinkable(name)) is None

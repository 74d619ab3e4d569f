"""One real Temporal dev server for every workflow test of the run: it takes seconds to boot and
to stop, and the suite shares a small machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bizosaas.workflows.devserver import TemporalDevServer


@pytest.fixture(scope="session")
def temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    server = TemporalDevServer(data_dir=tmp_path_factory.mktemp("temporal"), port=0)
    server.start()
    yield server
    server.stop()

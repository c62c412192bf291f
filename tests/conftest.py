"""Fixtures shared across test folders."""

from __future__ import annotations

import pytest

from recon.samples import SamplePair, generate_payments_pair


@pytest.fixture(scope="session")
def payments_pair(tmp_path_factory: pytest.TempPathFactory) -> SamplePair:
    """A small generated processor/ledger pair with its spec and truth (read-only: share it)."""
    return generate_payments_pair(tmp_path_factory.mktemp("payments"), rows=400, seed=3)

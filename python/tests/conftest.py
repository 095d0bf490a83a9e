"""Shared test setup: where the vectors are, the reference packages, and the random seed.

The differential tests draw their cases from one seed: ``PAYLOCK_TEST_SEED`` replays a run (the
seed is printed in the header of every run and in each failure).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

#: The repository's published vectors, found from this file (tests run from any directory).
VECTORS = Path(__file__).resolve().parents[2] / "test-vectors"

SEED = int(os.environ.get("PAYLOCK_TEST_SEED", random.SystemRandom().randrange(2**32)))


def pytest_report_header(config):
    return f"paylock differential seed: {SEED} (replay with PAYLOCK_TEST_SEED={SEED})"


@pytest.fixture
def rng(request):
    """A generator seeded from the run's seed and the test's name: each test replays alone."""
    return random.Random(f"{SEED}/{request.node.nodeid}")


def load_json(relative: str):
    with open(VECTORS / relative, encoding="utf-8") as f:
        return json.load(f)


def load_jsonl(relative: str):
    with open(VECTORS / relative, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]

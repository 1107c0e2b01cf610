from __future__ import annotations

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

from analysis.data.datasets import load_dataset

#: Quick feedback (make test-fast leaves the slow tests out): the property tests whose every example runs
#: a query on the engine read their example count as ``min(n, settings.default.max_examples)``, so they
#: try at most this many there; make test (and any run that keeps the slow tests) tries all ``n``.
settings.register_profile("quick", max_examples=20)


def pytest_configure(config):
    """Load the ``quick`` hypothesis profile when the slow tests are left out and no profile is chosen."""
    if "not slow" in (config.getoption("markexpr", "") or "") and not config.getoption("hypothesis_profile", None):
        settings.load_profile("quick")


@pytest.fixture(scope="session")
def cdnow():
    return load_dataset("cdnow")


@pytest.fixture(scope="session")
def telco():
    return load_dataset("telco")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def pytest_collection_modifyitems(items):
    """Tests that start Spark or a PostgreSQL server are marked ``engines`` (make test-fast leaves them out)."""
    for item in items:
        if {"spark", "postgres"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engines)

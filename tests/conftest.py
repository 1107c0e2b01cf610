from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from analysis.data.datasets import load_dataset


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

"""The shipped datasets (CDNOW, IBM Telco): where they are, their checksums, loading them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.data.readers import csv_lines, read_customers
from analysis.data.validate import validate_table
from analysis.errors import DataError, check_option

__all__ = ["DATASETS", "Dataset", "dataset_path", "load_dataset", "sha256_file"]


@dataclass(frozen=True)
class Dataset:
    """A dataset shipped with the package (``src/analysis/datasets``, ``data/raw`` in a checkout)."""

    name: str
    file: str
    sha256: str
    rows: int
    description: str


DATASETS: dict[str, Dataset] = {
    "cdnow": Dataset(
        "cdnow",
        "cdnow_master.txt",
        "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
        69_659,
        "CDNOW purchases of the 1997-Q1 cohort, 1997-01-01..1998-06-30 (transactions)",
    ),
    "telco": Dataset(
        "telco",
        "telco_customer_churn.csv",
        "a0ea74c48c1063be89a73ce3fb868593604c0129f2bf581934f04983d728b3b5",
        7_043,
        "IBM Telco Customer Churn sample (customers with churn flag)",
    ),
}


#: The shipped datasets, inside the package (``data/raw`` in a checkout links here).
_DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "datasets"


def sha256_file(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Path of a shipped dataset, after checking that it is unchanged.

    Parameters
    ----------
    name : {"cdnow", "telco"}
        The dataset.
    data_dir : path, optional
        Folder holding the raw files (default: the shipped ``analysis/datasets``).

    Raises
    ------
    DataError
        If the file is missing or its SHA-256 differs from the recorded one.
    """
    check_option("name", name, DATASETS)
    spec = DATASETS[name]
    path = Path(data_dir or _DEFAULT_DATA_DIR) / spec.file
    if not path.is_file():
        raise DataError("shipped dataset not found", file=str(path))
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise DataError(
            f"checksum mismatch: SHA-256 is {actual}, expected {spec.sha256}",
            file=str(path),
            hint="The shipped file was modified; reinstall the package (in a checkout: git checkout data/raw)",
        )
    return path


def load_dataset(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Load a shipped dataset by name, verified against its checksum.

    Parameters
    ----------
    name : {"cdnow", "telco"}
        ``"cdnow"`` gives a transactions table (``customer_id``, ``date``,
        ``amount``, ``quantity``); ``"telco"`` a customers table
        (``customer_id``, ``churned``, ``tenure_months``, the services and
        account attributes in snake_case, ``total_charges`` with NaN for the
        11 customers of tenure 0 whose value is blank in the file).
    data_dir : path, optional
        Folder holding the raw files.

    Returns
    -------
    pandas.DataFrame
    """
    path = dataset_path(name, data_dir)
    if name == "cdnow":
        # Whitespace-separated with a header line (customer_id date number_of_cds dollar_value).
        raw = pd.read_csv(path, sep=r"\s+", dtype=str, engine="c")
        return validate_table(
            raw,
            "transactions",
            file=str(path),
            rows=csv_lines(raw.index),
            row_label="line",
            columns={"quantity": "number_of_cds", "amount": "dollar_value"},
            date_format="%Y%m%d",
        )
    customers = read_customers(path, columns={"customer_id": "customerID", "churned": "Churn"})
    renamed = customers.rename(columns=_snake_case).rename(columns={"tenure": "tenure_months"})
    blank = renamed["total_charges"].str.strip() == ""
    return renamed.assign(
        senior_citizen=renamed["senior_citizen"].map({"1": True, "0": False}).astype(bool),
        tenure_months=pd.to_numeric(renamed["tenure_months"]).astype("int64"),
        monthly_charges=pd.to_numeric(renamed["monthly_charges"]),
        total_charges=pd.to_numeric(renamed["total_charges"].where(~blank)),
    )


def _snake_case(name: str) -> str:
    if name == "customerID":
        return "customer_id"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()

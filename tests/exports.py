"""Realistic exports a user brings, written by seeded generators (no real customer data).

- :func:`retail_export`: a shop's order-line export (invoice numbers with
  ``C`` for cancellations, quantity x unit price and no amount column, guest
  purchases without a customer id, ``12/1/2010 8:26`` timestamps).
- :func:`chinese_crm_export`: a Chinese B2B CRM export in five GBK files with
  Chinese headers, thousands separators, ``¥`` amounts and ``2024/3/5``
  dates, and the ``sources.yaml`` that describes them.
- :func:`short_history`: four months of purchases.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _purchases(rng: np.random.Generator, customers: int, start: str, days: int, rate: float) -> pd.DataFrame:
    """Purchase days per customer: each joins at a random day and buys at Poisson times while alive."""
    rows = []
    for number in range(customers):
        joined = int(rng.integers(0, max(1, days - 30)))
        life = rng.exponential(days * 1.5)
        t = float(joined)
        while t < min(days, joined + life):
            rows.append((number, int(t)))
            t += rng.exponential(1 / rate)
    frame = pd.DataFrame(rows, columns=["customer", "day"])
    frame["date"] = pd.Timestamp(start) + pd.to_timedelta(frame["day"], unit="D")
    return frame


def retail_export(folder: Path, *, seed: int = 1, customers: int = 300) -> Path:
    """A UK-style online-retail export as CSV: cancellations, guest rows, no amount column."""
    rng = np.random.default_rng(seed)
    orders = _purchases(rng, customers, "2010-12-01", 365, 1 / 30)
    lines = []
    for number, order in enumerate(orders.itertuples(), start=536365):
        for _ in range(int(rng.integers(1, 4))):
            quantity = int(rng.integers(1, 13))
            price = round(float(rng.choice([0.85, 1.25, 2.55, 4.95, 12.75])), 2)
            stamp = order.date + pd.Timedelta(hours=int(rng.integers(8, 18)), minutes=int(rng.integers(0, 60)))
            lines.append(
                {
                    "InvoiceNo": str(number),
                    "StockCode": f"{int(rng.integers(10000, 99999))}",
                    "Description": "WHITE HANGING HEART T-LIGHT HOLDER",
                    "Quantity": quantity,
                    "InvoiceDate": f"{stamp.month}/{stamp.day}/{stamp.year} {stamp.hour}:{stamp.minute:02d}",
                    "UnitPrice": price,
                    "CustomerID": f"{12346 + order.customer}",
                    "Country": "United Kingdom",
                }
            )
    frame = pd.DataFrame(lines)
    cancelled = frame.sample(frac=0.03, random_state=seed).copy()
    cancelled["InvoiceNo"] = "C" + cancelled["InvoiceNo"]
    cancelled["Quantity"] = -cancelled["Quantity"]
    frame = pd.concat([frame, cancelled]).reset_index(drop=True)
    guests = rng.random(len(frame)) < 0.2
    frame.loc[guests, "CustomerID"] = ""
    path = folder / "online_retail.csv"
    frame.to_csv(path, index=False)
    return path


#: The Chinese CRM export's column names, by contract name.
CRM_COLUMNS = {
    "transactions": {
        "customer_id": "客户编号",
        "date": "订单日期",
        "amount": "金额(元)",
        "margin": "毛利",
        "order_id": "订单号",
    },
    "customers": {"customer_id": "客户编号", "name": "客户名称", "acquisition_date": "首次合作日期", "region": "区域"},
    "invoices": {
        "customer_id": "客户编号",
        "invoice_date": "开票日期",
        "due_date": "到期日",
        "paid_date": "回款日期",
        "amount": "发票金额",
    },
    "complaints": {"customer_id": "客户编号", "date": "投诉日期", "resolved": "是否解决"},
    "contacts": {"customer_id": "客户编号", "date": "拜访日期", "channel": "方式"},
}


def _yuan(values: np.ndarray) -> list[str]:
    return [f"¥{v:,.2f}" for v in values]


def _day(stamps: pd.Series) -> list[str]:
    return [f"{d.year}/{d.month}/{d.day}" if not pd.isna(d) else "" for d in stamps]


def chinese_crm_export(folder: Path, *, seed: int = 2, customers: int = 400, start: str = "2023-01-01") -> Path:
    """Five GBK CSV files of a Chinese B2B CRM and their ``sources.yaml``; returns the YAML's path."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"KH{n:05d}" for n in range(1, customers + 1)]
    orders = _purchases(rng, customers, start, 730, 1 / 25)
    amount = np.round(rng.lognormal(9.5, 1.0, len(orders)), 2)  # yuan: thousands to hundreds of thousands
    tables = {
        "transactions": pd.DataFrame(
            {
                "订单号": [f"SO{n:07d}" for n in range(len(orders))],
                "客户编号": [ids[c] for c in orders["customer"]],
                "订单日期": _day(orders["date"]),
                "金额(元)": _yuan(amount),
                "毛利": [f"{v:,.2f}" for v in np.round(amount * rng.uniform(0.1, 0.35, len(orders)), 2)],
                "销售员": [f"销售{int(n)}" for n in rng.integers(1, 9, len(orders))],
            }
        ),
        "customers": pd.DataFrame(
            {
                "客户编号": ids,
                "客户名称": [f"华东机械有限公司{n}" for n in range(customers)],
                "首次合作日期": _day(
                    pd.Series(pd.Timestamp(start) - pd.to_timedelta(rng.integers(0, 2000, customers), "D"))
                ),
                "区域": rng.choice(["华东", "华南", "华北", "西南"], customers),
            }
        ),
    }
    due = orders["date"] + pd.Timedelta(days=30)
    paid = orders["date"] + pd.to_timedelta(rng.integers(10, 80, len(orders)), "D")
    paid = paid.where(paid <= orders["date"].max(), pd.NaT)
    tables["invoices"] = pd.DataFrame(
        {
            "客户编号": tables["transactions"]["客户编号"],
            "开票日期": _day(orders["date"]),
            "到期日": _day(due),
            "回款日期": _day(paid),
            "发票金额": _yuan(amount),
        }
    )
    pick = rng.random(len(orders)) < 0.08
    tables["complaints"] = pd.DataFrame(
        {
            "客户编号": tables["transactions"]["客户编号"][pick],
            "投诉日期": _day(orders["date"][pick]),
            "是否解决": rng.choice(["是", "否"], int(pick.sum())),
        }
    )
    visits = orders.sample(frac=0.5, random_state=seed)
    tables["contacts"] = pd.DataFrame(
        {
            "客户编号": [ids[c] for c in visits["customer"]],
            "拜访日期": _day(visits["date"] - pd.Timedelta(days=3)),
            "方式": rng.choice(["电话", "拜访"], len(visits)),
        }
    )
    names = {
        "transactions": "订单.csv",
        "customers": "客户.csv",
        "invoices": "发票.csv",
        "complaints": "投诉.csv",
        "contacts": "拜访.csv",
    }
    for table, frame in tables.items():
        frame.to_csv(folder / names[table], index=False, encoding="gb18030")
    lines = [
        "# 销售系统导出 (GBK)",
        "defaults:",
        "  encoding: gb18030",
        '  date_format: "%Y/%m/%d"',
        '  thousands: ","',
        '  currency_symbol: "¥"',
    ]
    for table, file in names.items():
        lines.append(f"{table}:")
        lines.append(f"  path: {file}")
        mapping = ", ".join(f"{k}: {v}" for k, v in CRM_COLUMNS[table].items())
        lines.append(f"  columns: {{{mapping}}}")
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def short_history(folder: Path, *, seed: int = 3, customers: int = 250, start: str = "2024-01-01") -> Path:
    """Four months of purchases (2024-01-01 to 2024-04-30) as a plain CSV with the contract's names."""
    rng = np.random.default_rng(seed)
    orders = _purchases(rng, customers, start, 121, 1 / 12)
    frame = pd.DataFrame(
        {
            "customer_id": [f"S{c:04d}" for c in orders["customer"]],
            "date": orders["date"].dt.strftime("%Y-%m-%d"),
            "amount": np.round(rng.lognormal(3.5, 0.8, len(orders)), 2),
        }
    )
    path = folder / "four_months.csv"
    frame.to_csv(path, index=False)
    return path

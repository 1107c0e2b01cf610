"""The realistic B2B CRM export committed in ``fixtures/b2b/``: how it is made (seeded, no real customer).

Five GBK CSV files as a Chinese CRM/ERP gives them (Chinese headers, amounts
with thousands separators, ``¥`` on the invoice amounts, ``2024/3/5`` dates,
是/否 flags, blank cells for "not yet") and the ``sources.yaml`` that
describes them:

- 客户.csv (customers): 客户编号, 客户名称, 行业, 地区, 首次合作日期, 信用额度, 账期(天)
- 订单.csv (transactions): 订单号, 客户编号, 订单日期, 数量, 金额(元), 毛利, 业务员
- 发票回款.csv (invoices with collections): 发票号, 客户编号, 开票日期, 到期日,
  发票金额, 回款日期, 回款金额 (partial payments happen)
- 投诉.csv (complaints): 投诉编号, 客户编号, 投诉日期, 类型, 是否解决, 解决日期
- 拜访.csv (contacts): 客户编号, 拜访日期, 方式 (电话/上门/微信), 业务员

How customers behave, month by month from 2023-01 to 2024-12: each buys at
its own rate; churn (it stops buying, and contacts stop a month later)
has a monthly hazard of 1%, times 3 for a chronic late payer (15% of
customers, 70% of their invoices late), times 4 within four months of an
unresolved complaint, times 2 for a neglected account (no visits from some
month on), times 2 for building-materials customers (建材) in the second
half of 2024. Two of the twelve salespeople leave (on 2024-05-15 and
2024-08-01); their accounts go to the others, and 35% of those customers
follow the salesperson who left within four months. ``tests/test_b2b_fixture.py`` checks that
the committed files are exactly what this module writes, and that the
study finds these signs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["B2B_COLUMNS", "B2B_FILES", "b2b_export"]


#: The files of the export, by contract table.
B2B_FILES = {
    "transactions": "订单.csv",
    "customers": "客户.csv",
    "invoices": "发票回款.csv",
    "complaints": "投诉.csv",
    "contacts": "拜访.csv",
}


#: Column map of each table (contract name: the export's header).
B2B_COLUMNS = {
    "transactions": {
        "customer_id": "客户编号",
        "date": "订单日期",
        "amount": "金额(元)",
        "margin": "毛利",
        "quantity": "数量",
        "order_id": "订单号",
        "salesperson": "业务员",
    },
    "customers": {
        "customer_id": "客户编号",
        "name": "客户名称",
        "industry": "行业",
        "region": "地区",
        "acquisition_date": "首次合作日期",
        "credit_limit": "信用额度",
        "payment_terms_days": "账期(天)",
    },
    "invoices": {
        "customer_id": "客户编号",
        "invoice_date": "开票日期",
        "due_date": "到期日",
        "amount": "发票金额",
        "paid_date": "回款日期",
        "paid_amount": "回款金额",
    },
    "complaints": {
        "customer_id": "客户编号",
        "date": "投诉日期",
        "type": "类型",
        "resolved": "是否解决",
        "resolved_date": "解决日期",
    },
    "contacts": {"customer_id": "客户编号", "date": "拜访日期", "channel": "方式", "salesperson": "业务员"},
}

_SALES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷", "徐明", "孙丽"]
_LEAVERS = {"刘洋": pd.Timestamp("2024-05-15"), "赵敏": pd.Timestamp("2024-08-01")}
_INDUSTRIES = ["机械制造", "建材", "化工", "电子", "食品", "物流"]
_REGIONS = ["华东", "华南", "华北", "西南", "华中"]
_CITY = ["苏州", "宁波", "佛山", "东莞", "天津", "成都", "武汉", "无锡", "温州", "青岛"]
_WORD = ["精工", "恒达", "鑫源", "华信", "永盛", "瑞丰", "宏图", "金桥", "博远", "中联"]
_COMPLAINT_TYPES = ["质量", "交期", "服务", "价格"]
_START, _END = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-12-31")


def _money(values: np.ndarray, symbol: str = "") -> list[str]:
    return [f"{symbol}{v:,.2f}" for v in values]


def _day(stamps: pd.Series) -> list[str]:
    return [f"{d.year}/{d.month}/{d.day}" if not pd.isna(d) else "" for d in stamps]


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    industry = rng.choice(_INDUSTRIES, n, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    return pd.DataFrame(
        {
            "id": [f"KH{i:04d}" for i in range(1, n + 1)],
            "name": [f"{rng.choice(_CITY)}{rng.choice(_WORD)}{industry[i][:2]}有限公司{i + 1:03d}" for i in range(n)],
            "industry": industry,
            "region": rng.choice(_REGIONS, n),
            "acquired": _START - pd.to_timedelta(rng.integers(0, 2500, n), "D"),
            "rate": rng.gamma(3.0, 0.4, n),  # orders a month
            "level": rng.normal(np.log(15_000), 0.9, n),  # yuan per order
            "late_payer": rng.random(n) < 0.15,
            "neglected_from": np.where(rng.random(n) < 0.12, rng.integers(6, 22, n), 99),  # month index
            "owner": rng.choice(_SALES, n),
            "terms": rng.choice([30, 60, 90], n, p=[0.6, 0.3, 0.1]),
        }
    )


def _simulate(rng: np.random.Generator, people: pd.DataFrame) -> dict[str, list[dict]]:
    """Month-by-month orders, invoices, complaints and contacts of each customer until churn."""
    months = pd.date_range(_START, _END, freq="MS")
    keep = [s for s in _SALES if s not in _LEAVERS]
    rows: dict[str, list[dict]] = {"orders": [], "invoices": [], "complaints": [], "contacts": []}
    for person in people.itertuples():
        owner, handed_over, open_until, alive, last_contact_month = person.owner, False, -1, True, 99
        follows, follow_month = False, -1
        for m, month in enumerate(months):
            if owner in _LEAVERS and month >= _LEAVERS[owner].replace(day=1):
                owner, handed_over = str(rng.choice(keep)), True
                follows = rng.random() < 0.35  # the customer follows the salesperson who left
                follow_month = m + int(rng.integers(0, 4))
            hazard = 0.01 * (3.0 if person.late_payer else 1.0)
            hazard *= (4.0 if m <= open_until else 1.0) * (2.0 if m >= person.neglected_from else 1.0)
            hazard *= 2.0 if person.industry == "建材" and month >= pd.Timestamp("2024-07-01") else 1.0
            if alive and (rng.random() < hazard or (handed_over and follows and m == follow_month)):
                alive, last_contact_month = False, m + 1
            if not alive and m > last_contact_month:
                break
            days = int(month.days_in_month)
            if alive:
                for _ in range(rng.poisson(person.rate)):
                    day = month + pd.Timedelta(days=int(rng.integers(0, days)))
                    amount = round(float(np.exp(person.level + 0.4 * rng.standard_normal())), 2)
                    rows["orders"].append(
                        {
                            "id": person.id,
                            "date": day,
                            "amount": amount,
                            "quantity": int(1 + rng.poisson(amount / 300)),
                            "margin": round(amount * float(rng.uniform(0.08, 0.3)), 2),
                            "salesperson": owner,
                        }
                    )
                    due = day + pd.Timedelta(days=int(person.terms))
                    late = rng.random() < (0.7 if person.late_payer else 0.06)
                    paid = due + pd.Timedelta(days=int(rng.geometric(1 / 25) if late else -rng.integers(0, 15)))
                    partly = late and rng.random() < 0.3
                    rows["invoices"].append(
                        {
                            "id": person.id,
                            "invoice_date": day,
                            "due_date": due,
                            "amount": amount,
                            "paid_date": paid if paid <= _END else pd.NaT,
                            "paid_amount": (round(amount * 0.5, 2) if partly else amount) if paid <= _END else np.nan,
                        }
                    )
                if rng.random() < 0.04 + (0.05 if person.late_payer else 0.0):
                    day = month + pd.Timedelta(days=int(rng.integers(0, days)))
                    solved = rng.random() < 0.7
                    fixed = day + pd.Timedelta(days=int(rng.integers(2, 40)))
                    if not solved:
                        open_until = m + 4
                    rows["complaints"].append(
                        {
                            "id": person.id,
                            "date": day,
                            "type": str(rng.choice(_COMPLAINT_TYPES)),
                            "resolved": solved and fixed <= _END,
                            "resolved_date": fixed if solved and fixed <= _END else pd.NaT,
                        }
                    )
            visits = 0 if m >= person.neglected_from else rng.poisson(1.5)
            for _ in range(visits):
                day = month + pd.Timedelta(days=int(rng.integers(0, days)))
                way = str(rng.choice(["电话", "上门", "微信"], p=[0.5, 0.3, 0.2]))
                rows["contacts"].append({"id": person.id, "date": day, "channel": way, "salesperson": owner})
    return rows


def b2b_export(folder: Path, *, seed: int = 14, customers: int = 500) -> Path:
    """Write the five GBK files and ``sources.yaml`` into ``folder``; returns the YAML's path."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people = _customers(rng, customers)
    rows = _simulate(rng, people)
    orders = pd.DataFrame(rows["orders"]).sort_values(["date", "id"], kind="stable", ignore_index=True)
    invoices = pd.DataFrame(rows["invoices"]).sort_values(["invoice_date", "id"], kind="stable", ignore_index=True)
    complaints = pd.DataFrame(rows["complaints"]).sort_values(["date", "id"], kind="stable", ignore_index=True)
    contacts = pd.DataFrame(rows["contacts"]).sort_values(["date", "id"], kind="stable", ignore_index=True)
    tables = {
        "transactions": pd.DataFrame(
            {
                "订单号": [f"SO{2023_0000 + i:08d}" for i in range(len(orders))],
                "客户编号": orders["id"],
                "订单日期": _day(orders["date"]),
                "数量": orders["quantity"],
                "金额(元)": _money(orders["amount"].to_numpy()),
                "毛利": _money(orders["margin"].to_numpy()),
                "业务员": orders["salesperson"],
            }
        ),
        "customers": pd.DataFrame(
            {
                "客户编号": people["id"],
                "客户名称": people["name"],
                "行业": people["industry"],
                "地区": people["region"],
                "首次合作日期": _day(people["acquired"]),
                "信用额度": _money(np.round(np.exp(people["level"]) * people["rate"] * 3, -4)),
                "账期(天)": people["terms"],
            }
        ),
        "invoices": pd.DataFrame(
            {
                "发票号": [f"FP{i:07d}" for i in range(1, len(invoices) + 1)],
                "客户编号": invoices["id"],
                "开票日期": _day(invoices["invoice_date"]),
                "到期日": _day(invoices["due_date"]),
                "发票金额": _money(invoices["amount"].to_numpy(), "¥"),
                "回款日期": _day(invoices["paid_date"]),
                "回款金额": [("" if np.isnan(v) else f"¥{v:,.2f}") for v in invoices["paid_amount"]],
            }
        ),
        "complaints": pd.DataFrame(
            {
                "投诉编号": [f"TS{i:05d}" for i in range(1, len(complaints) + 1)],
                "客户编号": complaints["id"],
                "投诉日期": _day(complaints["date"]),
                "类型": complaints["type"],
                "是否解决": np.where(complaints["resolved"], "是", "否"),
                "解决日期": _day(complaints["resolved_date"]),
            }
        ),
        "contacts": pd.DataFrame(
            {
                "客户编号": contacts["id"],
                "拜访日期": _day(contacts["date"]),
                "方式": contacts["channel"],
                "业务员": contacts["salesperson"],
            }
        ),
    }
    for table, frame in tables.items():
        frame.to_csv(folder / B2B_FILES[table], index=False, encoding="gb18030", lineterminator="\r\n")
    lines = [
        "# 销售系统导出 (GBK): 客户、订单、发票回款、投诉、拜访",
        "defaults:",
        "  encoding: gb18030",
        '  date_format: "%Y/%m/%d"',
        '  thousands: ","',
    ]
    for table, file in B2B_FILES.items():
        lines.append(f"{table}:")
        lines.append(f"  path: {file}")
        if table == "invoices":
            lines.append('  currency_symbol: "¥"')
        mapping = ", ".join(f"{k}: {v}" for k, v in B2B_COLUMNS[table].items())
        lines.append(f"  columns: {{{mapping}}}")
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

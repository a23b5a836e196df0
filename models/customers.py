"""From customer-level records to the monthly KPI history, and cohort retention.

Two kinds of record are common in the companies we serve:

* a **subscription snapshot** (a CRM or billing export): one row per customer with the
  months they have been a customer (tenure), whether they left in the last month and
  what they pay per month - e.g. IBM's Telco churn sample;
* **transactions**: one row per purchase with customer, date and amount - e.g. CDNOW.

:func:`history_from_snapshot` and :func:`history_from_transactions` turn them into rows
of the ``kpi_history`` table (models.schemas.KpiHistory) for one product, so that
:func:`models.valuation.kpi_baselines` computes churn, retention and CLV from them.
:func:`cohort_retention` gives the retention curve of each first-purchase cohort.

Months are calendar months (Timestamp of their first day); money in the records' currency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.errors import ModelError

HISTORY_COLUMNS = [
    "product",
    "month",
    "mau",
    "dau",
    "new_users",
    "churned_users",
    "conversion_rate",
    "arpu",
    "mrr",
    "nps",
    "cac",
]


def _month(value) -> pd.Timestamp:
    return pd.Timestamp(value).to_period("M").to_timestamp()


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ModelError(
            f"{what} needs column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}. "
            "Fix: name the columns when calling it."
        )


def history_from_snapshot(
    customers: pd.DataFrame,
    snapshot_month,
    product: str,
    *,
    tenure: str = "tenure",
    churned: str = "churned",
    monthly_revenue: str = "monthly_revenue",
) -> pd.DataFrame:
    """Monthly KPI history of one product from a subscription snapshot.

    ``tenure`` is the number of whole months a customer had been with us when the
    snapshot month T began (0: joined during T), ``churned`` is True for customers who
    left during T, ``monthly_revenue`` what each pays per month. So a customer with tenure
    n joined in month T - n and was a customer at the end of every month from T - n on
    (to T - 1 if they churned). Month by month:

    * mau: customers at the end of the month; new_users: customers who joined in it;
    * churned_users: those who left during T; before T churn was not observed (a
      snapshot only holds the customers still there at T), so it is left blank (NaN) and
      the baselines do not invent it;
    * mrr: the monthly revenue of the month-end customers plus, in T, of those who left
      (they paid for T); arpu = mrr / paying customers; conversion_rate 1 (every customer
      pays); dau, nps and cac are not in a snapshot (NaN).

    The earlier months count only customers who were still there at T (survivors), so
    their MAU understates the past: use the history for churn and revenue at T.
    """
    _require(customers, [tenure, churned, monthly_revenue], "history_from_snapshot")
    t_snap = pd.Period(_month(snapshot_month), "M")
    n = pd.to_numeric(customers[tenure], errors="raise").to_numpy(dtype=int)
    if (n < 0).any():
        raise ModelError(
            f"history_from_snapshot: column '{tenure}' has negative tenures. Fix: count whole months >= 0."
        )
    left = customers[churned].astype(bool).to_numpy()
    pay = pd.to_numeric(customers[monthly_revenue], errors="raise").to_numpy(dtype=float)
    rows = []
    for k in range(int(n.max(initial=0)), -1, -1):  # month T - k
        here = n >= k  # joined in T - n <= T - k
        end = here & ~left if k == 0 else here
        paying = here if k == 0 else end
        mrr = float(pay[paying].sum())
        customers_paying = int(paying.sum())
        rows.append(
            {
                "product": product,
                "month": (t_snap - k).to_timestamp(),
                "mau": float(end.sum()),
                "dau": np.nan,
                "new_users": float((n == k).sum()),
                "churned_users": float(left.sum()) if k == 0 else np.nan,
                "conversion_rate": 1.0,
                "arpu": mrr / customers_paying if customers_paying else np.nan,
                "mrr": mrr,
                "nps": np.nan,
                "cac": np.nan,
            }
        )
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _transactions(tx: pd.DataFrame, customer: str, date: str, amount: str) -> pd.DataFrame:
    _require(tx, [customer, date, amount], "transactions")
    out = pd.DataFrame(
        {
            "customer": tx[customer].to_numpy(),
            "month": pd.to_datetime(tx[date]).dt.to_period("M").dt.to_timestamp().to_numpy(),
            "amount": pd.to_numeric(tx[amount], errors="raise").to_numpy(dtype=float),
        }
    )
    out["cohort"] = out.groupby("customer")["month"].transform("min")
    return out


def history_from_transactions(
    tx: pd.DataFrame, product: str, *, customer: str = "customer_id", date: str = "date", amount: str = "amount"
) -> pd.DataFrame:
    """Monthly KPI history of one product from its transactions.

    mau: customers with at least one purchase in the month (active buyers); new_users:
    those whose first purchase fell in it; mrr: the month's revenue; arpu = mrr / mau;
    conversion_rate 1. churned_users is NaN: without contracts, leaving is not an event
    (use :func:`cohort_retention` for how many come back). dau, nps, cac are NaN.
    """
    t = _transactions(tx, customer, date, amount)
    g = t.groupby("month", sort=True)
    active = g["customer"].nunique()
    new = t.loc[t["month"] == t["cohort"]].groupby("month")["customer"].nunique()
    revenue = g["amount"].sum()
    grid = pd.date_range(active.index.min(), active.index.max(), freq="MS")
    active, new, revenue = (
        active.reindex(grid, fill_value=0),
        new.reindex(grid, fill_value=0),
        revenue.reindex(grid, fill_value=0.0),
    )
    return pd.DataFrame(
        {
            "product": product,
            "month": grid,
            "mau": active.to_numpy(dtype=float),
            "dau": np.nan,
            "new_users": new.to_numpy(dtype=float),
            "churned_users": np.nan,
            "conversion_rate": 1.0,
            "arpu": np.where(active > 0, revenue / active.where(active > 0, 1), np.nan),
            "mrr": revenue.to_numpy(),
            "nps": np.nan,
            "cac": np.nan,
        },
        columns=HISTORY_COLUMNS,
    )


def cohort_retention(
    tx: pd.DataFrame, *, customer: str = "customer_id", date: str = "date", amount: str = "amount"
) -> pd.DataFrame:
    """Retention of each first-purchase cohort, month by month.

    One row per cohort (the month of a customer's first purchase) and activity month:
    cohort, cohort_size, month, months_since (0 = the cohort month), active_customers
    (cohort members buying in that month), retention_share = active / cohort_size, and
    revenue (of the cohort in that month).
    """
    t = _transactions(tx, customer, date, amount)
    size = t.groupby("cohort")["customer"].nunique()
    g = t.groupby(["cohort", "month"], sort=True)
    out = pd.DataFrame({"active_customers": g["customer"].nunique(), "revenue": g["amount"].sum()}).reset_index()
    out["cohort_size"] = out["cohort"].map(size)
    out["months_since"] = (
        (out["month"].dt.year - out["cohort"].dt.year) * 12 + out["month"].dt.month - out["cohort"].dt.month
    )
    out["retention_share"] = out["active_customers"] / out["cohort_size"]
    return out[["cohort", "cohort_size", "month", "months_since", "active_customers", "retention_share", "revenue"]]

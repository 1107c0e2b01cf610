"""Tests of the churn models, validation and alerts (analysis.churn_models).

The planted effects of the synthetic B2B generator must be recovered through the whole
pipeline (tables -> churn frame -> model); the proportional-hazards test must hold its
size under proportional hazards and reject crossing hazards; validation and alert
figures are recomputed independently.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.duration.hazard_regression import PHReg

from analysis.churn.alerts import AlertList, alert_list, alerts_by_capacity, export_alerts_csv
from analysis.churn.b2b import b2b_churn_frame
from analysis.churn.frames import telco_churn_frame, transaction_churn_frame
from analysis.churn.models import fit_cox, fit_logistic, proportional_hazards_test
from analysis.churn.validation import calibration_table, gains_table, validate_out_of_time, validate_predictions
from analysis.errors import DataError, ParameterError
from analysis.synthetic.effects import SIGNALS
from analysis.synthetic.generate import generate_b2b

PLANTED = " + ".join(SIGNALS) + " + C(region)"
#: Signals with no planted effect: given the planted five, churn does not depend on them.
NULL_SIGNALS = (
    "beyond_usual_gap",
    "value_drop",
    "overdue_receivables",
    "collections_imbalance",
    "unresolved_complaint",
    "single_owner",
)


def _frame(n: int, seed: int, model: str) -> tuple[pd.DataFrame, pd.Series]:
    data = generate_b2b(n, seed=seed, churn_model=model)
    frame = b2b_churn_frame(
        data.customers,
        data.transactions,
        data.invoices,
        data.complaints,
        data.contacts,
        as_of=data.as_of,
        data_end=data.data_end,
    )
    return frame, data.true_effects.set_index("signal")["coefficient"]


def _fit(frame: pd.DataFrame, model: str, rhs: str, level: float) -> tuple[pd.DataFrame, object]:
    """Estimates with intervals on the log scale, and the truth (0 for region and null signals)."""
    if model == "logistic":
        fit = fit_logistic(frame, f"churned ~ {rhs}", level=level)
        table = fit.odds_ratios
    else:
        fit = fit_cox(frame, rhs, time="time_to_churn", event="recorded_churn", level=level)
        table = fit.hazard_ratios
    lv = f"{level * 100:g}"
    out = pd.DataFrame(
        {
            "estimate": table["coefficient"],
            "se": table["standard_error"],
            "lower": np.log(table[f"lower_{lv}"]),
            "upper": np.log(table[f"upper_{lv}"]),
        }
    )
    return out, fit


def _covers(out: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    out = out.assign(truth=[truth.get(term, 0.0) for term in out.index])
    return out.assign(covers=(out["lower"] <= out["truth"]) & (out["truth"] <= out["upper"]))


# --------------------------------------------------------------------------- planted effects


@pytest.mark.parametrize("model", ["logistic", "proportional_hazards"])
def test_planted_effects_recovered(model):
    # One fixed seed, not chosen by its outcome. Fourteen coefficients (5 planted, among them the
    # salesperson change measured by the main frame from the salesperson columns; 3 null region
    # contrasts; 6 null signals) are checked at once, so the intervals are Bonferroni-adjusted
    # to a family-wise 99% level: a correct pipeline fails here with probability <= 1%.
    frame, truth = _frame(4000, 0, model)
    out, fit = _fit(frame, model, PLANTED + " + " + " + ".join(NULL_SIGNALS), level=1 - 0.01 / 14)
    out = _covers(out, truth)
    assert len(out) == 14 and out["covers"].all(), out
    assert (out.loc[list(SIGNALS), "lower"] > 0).all(), out  # every planted effect clearly positive
    if model == "proportional_hazards":
        # the data are generated under proportional hazards: no covariate should look otherwise
        # (14 tests plus the global one at 1/1000 each)
        assert (fit.ph_test["p_value"] > 0.001).all(), fit.ph_test


@pytest.mark.slow
@pytest.mark.parametrize("model", ["logistic", "proportional_hazards"])
def test_planted_effects_coverage(model):
    n_seeds = 20
    fits, ph_global = {}, []
    for seed in range(2000, 2000 + n_seeds):
        frame, truth = _frame(2500, seed, model)
        out, fit = _fit(frame, model, PLANTED, level=0.95)
        fits[seed] = _covers(out, truth)
        if model == "proportional_hazards":
            ph_global.append(fit.ph_test.loc["GLOBAL", "p_value"])
    fits = pd.concat(fits, names=["seed", "term"])
    planted = fits[fits.index.get_level_values("term").isin(SIGNALS)]
    null = fits[~fits.index.get_level_values("term").isin(SIGNALS)]
    # Planted: 5 nearly independent intervals per seed, so the number covering is about
    # Binomial(100, 0.95); fail below its 0.05% quantile (P(false alarm) < 5e-4).
    low = sps.binom.ppf(5e-4, len(planted), 0.95) / len(planted)
    assert low <= planted["covers"].mean(), (low, planted)
    # Null region contrasts share the reference region (correlated): count at worst one draw
    # per seed, Binomial(20, 0.95), same tail.
    low_null = sps.binom.ppf(5e-4, n_seeds, 0.95) / n_seeds
    assert low_null <= null["covers"].mean(), (low_null, null)
    # No systematic bias: mean estimate within 4 standard errors of the truth (P(|z| > 4) = 6e-5).
    by_term = planted.groupby(level="term")
    bias = by_term["estimate"].mean() - by_term["truth"].first()
    se = np.sqrt(by_term["se"].mean() ** 2 / n_seeds)
    assert (bias.abs() < 4 * se).all(), pd.DataFrame({"bias": bias, "se": se})
    if ph_global:  # the PH test's size under proportional hazards: Binomial(20, 0.05) rejections
        rejections = int(np.sum(np.array(ph_global) < 0.05))
        assert rejections <= sps.binom.isf(5e-4, n_seeds, 0.05), ph_global
    print(
        f"\n{model}: coverage planted {planted['covers'].mean():.3f} ({len(planted)}), "
        f"null {null['covers'].mean():.3f} ({len(null)}); bias/se {dict((bias / se).round(2))}"
        + (f"; PH global p < 0.05 in {np.sum(np.array(ph_global) < 0.05)}/{n_seeds}" if ph_global else "")
    )


# --------------------------------------------------------------------------- proportional-hazards test


def _simulate(rng: np.random.Generator, n: int, crossing: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, events and covariates (binary x, continuous w), right-censored."""
    x = rng.integers(0, 2, size=n)
    w = rng.normal(size=n)
    u = rng.random(n)
    if crossing:
        # Weibull with shape 0.5 (x = 0: falling hazard) or 2 (x = 1: rising), same scale:
        # the hazards cross, the hazard ratio of x goes from below 1 to above 1.
        shape = np.where(x == 1, 2.0, 0.5)
        latent = (-np.log(u) / np.exp(0.3 * w)) ** (1 / shape)
    else:
        latent = -np.log(u) / np.exp(0.7 * x + 0.3 * w)  # exponential: proportional hazards
    censor = rng.uniform(0, 3, size=n)
    return np.minimum(latent, censor), (latent <= censor).astype(float), np.column_stack([x, w])


def test_ph_test_rejects_crossing_hazards():
    rng = np.random.default_rng(10)
    for _ in range(5):
        time, event, exog = _simulate(rng, 400, crossing=True)
        frame = pd.DataFrame({"t": time, "e": event.astype(int), "x": exog[:, 0], "w": exog[:, 1]})
        fit = fit_cox(frame, "x + w", time="t", event="e")
        assert fit.ph_test.loc["x", "p_value"] < 1e-4, fit.ph_test
        assert fit.ph_test.loc["x", "rho"] > 0  # the effect of x grows with time
        assert fit.ph_test.loc["GLOBAL", "p_value"] < 1e-3


@pytest.mark.slow  # a size check by simulation: 200 Cox fits
def test_ph_test_holds_its_size_under_proportional_hazards():
    rng = np.random.default_rng(11)
    reps = 200
    p_values = []
    for _ in range(reps):
        time, event, exog = _simulate(rng, 150, crossing=False)
        p_values.append(proportional_hazards_test(PHReg(time, exog, status=event).fit())["p_value"].to_numpy())
    p_values = np.array(p_values)  # columns: x, w, GLOBAL
    # Rejections at 5%: Binomial(200, 0.05) if the test is exact; accept anything a
    # test of true size 3%-7% would give except with probability 1e-4 per column.
    low, high = sps.binom.ppf(1e-4, reps, 0.03), sps.binom.isf(1e-4, reps, 0.07)
    rejections = (p_values < 0.05).sum(axis=0)
    assert ((low <= rejections) & (rejections <= high)).all(), rejections
    # and the p-values look uniform (KS test, per column)
    assert all(sps.kstest(p_values[:, j], "uniform").pvalue > 1e-3 for j in range(3))


def test_ph_test_matches_its_formula_on_one_covariate():
    rng = np.random.default_rng(12)
    time, event, exog = _simulate(rng, 80, crossing=True)
    result = PHReg(time, exog[:, :1], status=event).fit()
    table = proportional_hazards_test(result, transform="identity")
    # single covariate, identity time: correlate time with d * var * Schoenfeld residual
    dead = event == 1
    residual = np.asarray(result.schoenfeld_residuals)[dead, 0]
    g = time[dead] - time[dead].mean()
    var = result.cov_params()[0, 0]
    d = dead.sum()
    statistic = (g @ residual * d * var) ** 2 / (var * d * (g @ g))
    assert table.loc["x1", "statistic"] == pytest.approx(statistic)
    assert table.loc["GLOBAL", "statistic"] == pytest.approx(statistic)  # one covariate: the same
    assert table.loc["x1", "rho"] == pytest.approx(np.corrcoef(g, residual)[0, 1])
    ranks = proportional_hazards_test(result, transform="rank")
    assert ranks.loc["x1", "statistic"] != pytest.approx(statistic)
    with pytest.raises(ParameterError, match="transform"):
        proportional_hazards_test(result, transform="square")


def test_cox_on_telco_and_predictions(telco):
    frame = telco_churn_frame(telco)
    fit = fit_cox(frame, "C(contract) + electronic_check + fiber_optic", time="tenure_months", event="churned")
    assert list(fit.ph_test.index) == [*fit.hazard_ratios.index, "GLOBAL"]
    assert fit.n == len(frame) and fit.events == frame["churned"].sum()
    two_year = fit.hazard_ratios.loc["C(contract)[T.Two year]"]
    assert two_year["upper_95"] < 1  # longer contracts, fewer churners (any sensible fit)
    risk = fit.relative_hazard(frame.head(3))
    expected = np.exp(fit.result_.model.exog[:3] @ fit.result_.params)
    np.testing.assert_allclose(risk, expected)
    p12, p24 = fit.churn_probability(frame.head(3), horizon=12), fit.churn_probability(frame.head(3), horizon=24)
    assert ((p12 > 0) & (p12 < p24) & (p24 < 1)).all()
    with pytest.raises(ParameterError, match="formula"):
        fit_cox(frame, "tenure_months ~ fiber_optic", time="tenure_months", event="churned")


def test_logistic_model_basics(telco):
    frame = telco_churn_frame(telco)
    before = frame.copy()
    fit = fit_logistic(frame, "churned ~ month_to_month + np.log1p(tenure_months) + total_charges")
    pd.testing.assert_frame_equal(frame, before)
    assert fit.n == frame["total_charges"].notna().sum()  # complete cases only
    row = fit.odds_ratios.loc["month_to_month"]
    assert row["odds_ratio"] == pytest.approx(np.exp(row["coefficient"]))
    assert row["lower_95"] == pytest.approx(np.exp(row["coefficient"] - sps.norm.ppf(0.975) * row["standard_error"]))
    probability = fit.predict(frame)
    assert probability.isna().sum() == frame["total_charges"].isna().sum()
    assert probability.index.equals(frame.index)
    bool_outcome = fit_logistic(telco.assign(m=telco["contract"] == "Month-to-month"), "churned ~ m")
    assert bool_outcome.churners == telco["churned"].sum()
    with pytest.raises(ParameterError, match="formula"):
        fit_logistic(frame, "month_to_month")


# --------------------------------------------------------------------------- validation


def test_validation_figures_match_independent_computations():
    rng = np.random.default_rng(20)
    n = 1003  # not a multiple of 10: unequal bins
    p = rng.beta(2, 5, size=n)
    y = (rng.random(n) < p).astype(int)
    result = validate_predictions(y, p)
    assert result.auc == pytest.approx(sps.mannwhitneyu(p[y == 1], p[y == 0]).statistic / (y.sum() * (n - y.sum())))
    assert result.brier == pytest.approx(np.mean((p - y) ** 2))
    assert result.brier_no_skill == pytest.approx(y.mean() * (1 - y.mean()))
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, 10)
    calibration = result.calibration
    assert list(calibration["n"]) == [len(b) for b in bins]
    np.testing.assert_allclose(calibration["mean_predicted"], [p[b].mean() for b in bins])
    np.testing.assert_allclose(calibration["observed_rate"], [y[b].mean() for b in bins])
    hl = sum((y[b].sum() - p[b].sum()) ** 2 / (p[b].sum() * (1 - p[b].mean())) for b in bins)
    assert result.hosmer_lemeshow.statistic == pytest.approx(hl)
    top = np.array_split(np.argsort(-p, kind="stable"), 10)
    gains = result.gains
    np.testing.assert_array_equal(gains["churners"], [y[b].sum() for b in top])
    np.testing.assert_allclose(gains["cumulative_share_churners"], np.cumsum([y[b].sum() for b in top]) / y.sum())
    np.testing.assert_allclose(gains["lift"], [y[b].mean() / y.mean() for b in top])
    # calibrated by construction: the HL test should not reject
    assert result.hosmer_lemeshow.p_value > 1e-3
    assert (calibration["observed_lower_95"] <= calibration["observed_rate"]).all()
    assert set(result.summary()["metric"]) >= {"auc", "brier"}


def test_validation_detects_miscalibration():
    rng = np.random.default_rng(21)
    p = rng.beta(2, 5, size=3000)
    y = (rng.random(3000) < p).astype(int)
    result = validate_predictions(y, np.clip(p * 1.6, 0, 1))  # same ranking, too high
    assert result.hosmer_lemeshow.p_value < 1e-6
    assert result.auc == pytest.approx(validate_predictions(y, p).auc, abs=1e-3)
    assert result.brier > validate_predictions(y, p).brier


def test_out_of_time_validation_on_cdnow(cdnow):
    early = transaction_churn_frame(cdnow, as_of="1997-09-30", horizon_days=90)
    later = transaction_churn_frame(cdnow, as_of="1997-12-31", horizon_days=90)
    formula = "churned ~ beyond_usual_gap + dormant + frequency_drop + np.log1p(recency_days) + np.log1p(occasions)"
    model = fit_logistic(early, formula)
    result = validate_out_of_time(model, later)
    assert result.n == len(later)
    assert result.auc_lower > 0.5 and result.brier_upper < result.brier_no_skill
    assert result.gains["cumulative_lift"].iloc[0] > 1
    assert result.calibration["n"].sum() == len(later)


def test_out_of_time_validation_of_a_cox_model(telco):
    frame = telco_churn_frame(telco)
    fit = fit_cox(frame.iloc[::2], "month_to_month + fiber_optic", time="tenure_months", event="churned")
    later = frame.iloc[1::2]
    result = validate_out_of_time(fit, later, horizon=24)
    expected = 1 - np.exp(-np.interp(24, *fit.result_.baseline_cumulative_hazard[0][:2]) * fit.relative_hazard(later))
    assert result.mean_predicted == pytest.approx(expected.mean(), rel=0.05)
    assert result.auc > 0.5
    with pytest.raises(ParameterError, match="horizon"):
        validate_out_of_time(fit, later)


def test_calibration_and_gains_input_errors():
    with pytest.raises(DataError, match="cannot fill"):
        calibration_table([0, 1, 1], [0.2, 0.5, 0.9], n_bins=10)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        calibration_table([0, 1], [0.2, 1.5], n_bins=1)
    with pytest.raises(ParameterError, match="n_bins"):
        gains_table([0, 1], [0.2, 0.5], n_bins=0)
    with pytest.raises(DataError, match="single class"):
        validate_predictions([1, 1, 1], [0.2, 0.5, 0.9], n_bins=1)


# --------------------------------------------------------------------------- alerts


@pytest.fixture
def scored() -> pd.DataFrame:
    rng = np.random.default_rng(30)
    n = 500
    p = rng.beta(1, 4, size=n).round(2)  # rounded: ties in value at risk
    value = rng.choice([100.0, 250.0, 1000.0, -50.0], size=n)
    p[:5] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"K{i:04d}" for i in rng.permutation(n)],
            "churn_probability": p,
            "trailing_value": value,
            "churned": (rng.random(n) < np.nan_to_num(p)).astype(int),
            "late_payments": rng.integers(0, 2, size=n),
        }
    )


def test_alert_list_figures_match_a_direct_computation(scored):
    before = scored.copy()
    k = 60
    result = alert_list(scored, capacity=k, outcome="churned", columns=["late_payments"])
    pd.testing.assert_frame_equal(scored, before)
    ranked = scored.dropna(subset=["churn_probability"]).assign(
        var=lambda f: f["churn_probability"] * f["trailing_value"].clip(lower=0)
    )
    ranked = ranked.sort_values(["var", "customer_id"], ascending=[False, True])
    top = ranked.head(k)
    assert list(result.alerts["customer_id"]) == list(top["customer_id"])
    assert list(result.alerts["rank"]) == list(range(1, k + 1))
    np.testing.assert_array_equal(result.alerts["late_payments"], top["late_payments"])
    coverage = result.coverage
    assert coverage["precision"] == pytest.approx(top["churned"].mean())
    assert coverage["recall"] == pytest.approx(top["churned"].sum() / ranked["churned"].sum())
    lost = ranked["churned"] * ranked["trailing_value"].clip(lower=0)
    assert coverage["value_lost_share"] == pytest.approx(lost.loc[top.index].sum() / lost.sum())
    assert coverage["expected_value_at_risk"] == pytest.approx(top["var"].sum())
    assert coverage["expected_value_at_risk_share"] == pytest.approx(top["var"].sum() / ranked["var"].sum())
    np.testing.assert_allclose(result.alerts["cumulative_value_at_risk"], top["var"].cumsum())


def test_alerts_by_capacity_table(scored):
    table = alerts_by_capacity(scored, capacities=[1, 10, 100, 10_000], outcome="churned")
    ranked_n = scored["churn_probability"].notna().sum()
    assert list(table["alerted"]) == [1, 10, 100, ranked_n]
    assert table["recall"].iloc[-1] == pytest.approx(1.0)
    assert table["expected_value_at_risk_share"].is_monotonic_increasing
    for _, row in table.iterrows():
        single = alert_list(scored, capacity=int(row["capacity"]), outcome="churned").coverage
        assert single["precision"] == pytest.approx(row["precision"])
    default = alerts_by_capacity(scored)
    assert default["share_alerted"].iloc[-1] == pytest.approx(1.0) and "precision" not in default
    with pytest.raises(ParameterError, match="capacity"):
        alert_list(scored, capacity=0)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        alert_list(scored.assign(churn_probability=2.0), capacity=3)


# --------------------------------------------------------------------------- CSV export


def _read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as stream:
        return list(csv.reader(stream))


@pytest.fixture
def alerts() -> AlertList:
    frame = pd.DataFrame(
        {
            "customer_id": ['=HYPERLINK("http://evil.example","click")', "+1", "-2", "@SUM(A1)", "\tx", "\ry", "plain"],
            "churn_probability": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
            "trailing_value": [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0],
            "balance": [-5.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    return alert_list(frame, capacity=7, columns=["balance"])


def test_csv_neutralises_formulas_and_keeps_numbers(alerts, tmp_path):
    path = export_alerts_csv(alerts, tmp_path / "alerts.csv")
    rows = _read(path)
    header, body = rows[0], rows[1:]
    ids = [row[header.index("customer_id")] for row in body]
    originals = list(alerts.alerts["customer_id"])
    for written, original in zip(ids, originals, strict=True):
        if original[0] in "=+-@\t\r":
            assert written == "'" + original
        else:
            assert written == original
    balances = [float(row[header.index("balance")]) for row in body]  # numbers stay numbers
    assert balances == list(alerts.alerts["balance"])
    assert body[0][header.index("balance")] == "-5.5"
    assert os.listdir(tmp_path) == ["alerts.csv"]  # no temporary file left


def test_csv_pseudonymises_with_a_key(alerts, tmp_path):
    key = b"a secret key of 32 bytes........"
    path = export_alerts_csv(alerts, tmp_path / "alerts.csv", pseudonym_key=key)
    rows = _read(path)
    ids = [row[rows[0].index("customer_id")] for row in rows[1:]]
    expected = [hmac.new(key, c.encode(), hashlib.sha256).hexdigest() for c in alerts.alerts["customer_id"]]
    assert ids == expected
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8 text as such
    with pytest.raises(ParameterError, match="key"):
        export_alerts_csv(alerts, tmp_path / "other.csv", pseudonym_key=b"short")


def test_csv_is_never_overwritten_unless_asked(alerts, tmp_path):
    path = tmp_path / "alerts.csv"
    path.write_text("precious\n")
    with pytest.raises(ParameterError, match="does not exist"):
        export_alerts_csv(alerts, path)
    assert path.read_text() == "precious\n"
    export_alerts_csv(alerts, path, overwrite=True)
    assert len(_read(path)) == len(alerts.alerts) + 1
    assert sorted(os.listdir(tmp_path)) == ["alerts.csv"]
    with pytest.raises(ParameterError, match="existing folder"):
        export_alerts_csv(alerts, tmp_path / "missing" / "alerts.csv")


def test_csv_is_written_atomically(alerts, tmp_path, monkeypatch):
    path = tmp_path / "alerts.csv"
    path.write_text("old\n")

    def broken(self, stream, **kwargs):
        stream.write("customer_id,churn_probability\npartial,")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        export_alerts_csv(alerts, path, overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        export_alerts_csv(alerts, tmp_path / "new.csv")
    assert path.read_text() == "old\n"  # the old file is intact,
    assert os.listdir(tmp_path) == ["alerts.csv"]  # no partial new file, no temporary left


def test_csv_refuses_a_file_that_appears_while_writing(alerts, tmp_path, monkeypatch):
    path = tmp_path / "alerts.csv"
    real_to_csv = pd.DataFrame.to_csv

    def racing(self, stream, **kwargs):
        path.write_text("someone else's\n")  # another process creates the file meanwhile
        return real_to_csv(self, stream, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", racing)
    with pytest.raises(ParameterError, match="does not exist"):
        export_alerts_csv(alerts, path)
    assert path.read_text() == "someone else's\n"
    assert os.listdir(tmp_path) == ["alerts.csv"]

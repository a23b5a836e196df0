"""Known-answer tests for models.scoring (arithmetic in the comments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from models import scoring
from models.errors import FormulaError, ModelError


def test_rice_by_hand(backlog):
    r = scoring.rice(backlog)
    # S1: 1000 reach x 2 impact x 0.8 confidence / (4 + 2) pw = 1600 / 6 = 266.666...
    assert r["S1"] == pytest.approx(1600 / 6)
    # S2: 500 x 1 x 0.5 / 6 pw = 41.666...
    assert r["S2"] == pytest.approx(250 / 6)
    # S3: defaults 100 x 1 x 1 / 2 pw = 50
    assert r["S3"] == pytest.approx(50.0)
    assert r.index.name == "item_id" and r.name == "rice"


def test_wsjf_uses_story_points_when_present_else_person_weeks(backlog):
    w = scoring.wsjf(backlog)
    # S1 has 5 story points: (8 + 5 + 2) / 5 = 3.0
    assert w["S1"] == pytest.approx(3.0)
    # S2 has no story points: (5 + 3 + 1) / 6 pw = 1.5
    assert w["S2"] == pytest.approx(1.5)
    # A1: (6 + 2 + 1) / 3 pw = 3.0
    assert w["A1"] == pytest.approx(3.0)
    assert scoring.job_size(backlog)["S1"] == 5.0 and scoring.job_size(backlog)["S2"] == 6.0


def test_moscow_rank(backlog):
    m = scoring.moscow_rank(backlog)
    assert m.to_dict() == {"S1": 1, "S2": 2, "S3": 3, "A1": 2, "A2": 4, "A3": 1, "D1": 3}


def test_weighted_score_normalises_and_effort_counts_against(make_backlog):
    bl = make_backlog(
        [
            dict(item_id="X", effort_backend=2.0, business_value=10.0),
            dict(item_id="Y", effort_backend=6.0, business_value=6.0),
            dict(item_id="Z", effort_backend=10.0, business_value=2.0),
        ]
    )
    s = scoring.weighted_score(bl, {"business_value": 0.5, "effort": 0.5})
    # business_value normalised: X 1, Y 0.5, Z 0; effort normalised X 0, Y 0.5, Z 1 -> 1 - n
    # X: 0.5*1 + 0.5*1 = 1; Y: 0.5*0.5 + 0.5*0.5 = 0.5; Z: 0
    assert s.to_dict() == pytest.approx({"X": 1.0, "Y": 0.5, "Z": 0.0})
    # a negative weight makes a criterion count against, with the same magnitude
    neg = scoring.weighted_score(bl, {"business_value": -1.0})
    assert neg.to_dict() == pytest.approx({"X": 0.0, "Y": 0.5, "Z": 1.0})
    # "effort" with a negative weight still counts against once (not flipped twice)
    assert scoring.weighted_score(bl, {"effort": -1.0}).to_dict() == pytest.approx({"X": 1.0, "Y": 0.5, "Z": 0.0})
    # "value" is another name for business_value (as in the demo settings)
    assert scoring.weighted_score(bl, {"value": 2.0}).to_dict() == pytest.approx({"X": 1.0, "Y": 0.5, "Z": 0.0})


def test_weighted_score_unknown_criterion_names_it_and_the_allowed_ones(backlog):
    with pytest.raises(ModelError) as exc:
        scoring.weighted_score(backlog, {"business_value": 1.0, "coolness": 2.0})
    text = str(exc.value)
    assert "'coolness'" in text and "business_value" in text and "time_criticality" in text


def test_value_effort_quadrant_split_at_medians_ties_count_high():
    value = pd.Series([10.0, 10.0, 1.0, 1.0, 5.0], index=list("abcde"))
    effort = pd.Series([1.0, 9.0, 1.0, 9.0, 5.0], index=list("abcde"))
    q = scoring.value_effort_quadrant(value, effort)
    # medians: value 5, effort 5; e sits on both medians -> high value, high effort
    assert q.to_dict() == {"a": "quick win", "b": "big bet", "c": "fill-in", "d": "money pit", "e": "big bet"}


def test_priority_scores_ranks_are_unique_and_ties_break_by_item_id(backlog, settings):
    ps = scoring.priority_scores(backlog, settings).set_index("item_id")
    n = len(backlog)
    for col in ("rank_rice", "rank_wsjf", "rank_weighted", "rank_moscow"):
        assert sorted(ps[col]) == list(range(1, n + 1))
    # RICE: S1 266.7 is best
    assert ps.loc["S1", "rank_rice"] == 1
    # WSJF: S1 and A1 both 3.0 -> tie broken by item_id: A1 before S1
    assert ps.loc["A1", "wsjf"] == pytest.approx(ps.loc["S1", "wsjf"])
    assert ps.loc["A1", "rank_wsjf"] < ps.loc["S1", "rank_wsjf"]
    # MoSCoW: the two Musts A3, S1 first (A3 before S1 by id); Won't (A2) last
    assert ps.loc["A3", "rank_moscow"] == 1 and ps.loc["S1", "rank_moscow"] == 2
    assert ps.loc["A2", "rank_moscow"] == n
    assert set(ps["quadrant"]) <= set(scoring.QUADRANTS)
    assert ps["weighted"].between(0, 1).all()


def test_rank_correlation_of_identical_and_reversed_rankings():
    ps = pd.DataFrame(
        {"item_id": list("ABCD"), "rank_rice": [1, 2, 3, 4], "rank_wsjf": [1, 2, 3, 4], "rank_weighted": [4, 3, 2, 1]}
    )
    agree = scoring.rank_correlation(ps, top_k=2).set_index(["method_a", "method_b"])
    assert agree.at[("rice", "wsjf"), "spearman"] == pytest.approx(1.0)
    assert agree.at[("rice", "weighted"), "spearman"] == pytest.approx(-1.0)
    # top 2: {A, B} vs {A, B} and vs {D, C}
    assert agree.at[("rice", "wsjf"), "top_k_overlap"] == 1.0
    assert agree.at[("rice", "weighted"), "top_k_overlap"] == 0.0


def test_rank_stability_is_reproducible_and_converges_with_more_draws(make_backlog, make_settings):
    # A is far ahead on every method and certain; B..F are close together and uncertain
    rows = [dict(item_id="A", effort_backend=1.0, reach=10_000.0, business_value=20.0, confidence=1.0)]
    rows += [
        dict(item_id=k, effort_backend=2.0, reach=100.0 + i, business_value=5.0 + 0.1 * i, confidence=0.5)
        for i, k in enumerate("BCDEF")
    ]
    backlog = make_backlog(rows)
    settings = make_settings(scoring_weights={"business_value": 0.5, "effort": 0.5})
    one = scoring.rank_stability(backlog, settings, top_k=2, draws=400, seed=1)
    assert one.equals(scoring.rank_stability(backlog, settings, top_k=2, draws=400, seed=1))
    other = scoring.rank_stability(backlog, settings, top_k=2, draws=400, seed=2)
    assert not one["p_top_k"].equals(other["p_top_k"])
    # two seeds agree to Monte Carlo accuracy (sd of a share over 400 draws <= 0.025)
    diff = (one.set_index(["item_id", "method"])["p_top_k"] - other.set_index(["item_id", "method"])["p_top_k"]).abs()
    assert diff.max() < 0.1
    a = one.loc[one["item_id"] == "A"]
    assert (a["p_top_k"] == 1.0).all() and (a["base_rank"] == 1).all()
    # the close, uncertain items share the second place: none of them is sure of it
    rest = one.loc[(one["item_id"] != "A") & (one["method"] == "rice")]
    assert rest["p_top_k"].max() < 0.9 and rest["p_top_k"].sum() == pytest.approx(1.0)


def test_own_formula_scores_are_ranked_and_compared(backlog, make_settings):
    settings = make_settings(scoring_formulas={"my_rice": "reach * impact * confidence / effort"})
    ps = scoring.priority_scores(backlog, settings)
    # the formula is RICE written out: the same scores and ranks
    assert ps["formula_my_rice"].tolist() == pytest.approx(ps["rice"].tolist())
    assert ps["rank_formula_my_rice"].tolist() == ps["rank_rice"].tolist()
    agree = scoring.rank_correlation(ps).set_index(["method_a", "method_b"])
    assert agree.at[("rice", "formula_my_rice"), "spearman"] == pytest.approx(1.0)


def test_a_formula_that_is_code_is_refused(backlog, make_settings):
    evil = "__import__('os').system('rm -rf /')"
    # the settings refuse it when they load, at its key ...
    with pytest.raises(ValidationError, match=r"scoring_formulas\.evil\n.*attribute access"):
        make_settings(scoring_formulas={"evil": evil})
    # ... and so does the score itself
    with pytest.raises(ModelError, match=r"settings scoring_formulas.evil"):
        scoring.formula_score(backlog, "evil", evil)


def test_a_formula_that_overflows_is_an_error_not_a_blank_score(backlog, make_settings):
    # 1e9 ** 10 = 1e90 is a float; its fourth power (1e360) is beyond float64 (1.8e308)
    huge = "reach * 999999999 ** 10 * 999999999 ** 10 * 999999999 ** 10 * 999999999 ** 10"
    settings = make_settings(scoring_formulas={"huge": huge})  # it parses: the data makes it overflow
    with pytest.raises(FormulaError) as info:
        scoring.priority_scores(backlog, settings)
    message = str(info.value)
    assert message.startswith("settings scoring_formulas.huge: ")
    assert "no finite score for 7 item(s)" in message and "S1 (inf)" in message
    assert "overflow" in message and "Fix: keep the score within that range" in message
    # the same for a division by zero, where every criterion is known
    with pytest.raises(FormulaError, match=r"no finite score for 7 item\(s\).*S1 \(inf\)"):
        scoring.formula_score(backlog, "per_nothing", "reach / (effort - effort)")
    # large but finite scores rank as usual
    big = scoring.formula_score(backlog, "big", "reach * 999999999 ** 10")
    assert np.isfinite(big).all() and big["S1"] == pytest.approx(1000 * 999999999.0**10)


def test_a_formula_leaves_items_without_a_criterion_blank(make_backlog):
    # an item without story points has no score (it ranks last); that is missing data, not an error
    bl = make_backlog([dict(item_id="A", effort_backend=1.0, story_points=2.0), dict(item_id="B", effort_backend=1.0)])
    got = scoring.formula_score(bl, "per_point", "business_value / story_points")
    assert np.isfinite(got["A"]) and np.isnan(got["B"])


def test_rank_problems_find_gaps_ties_and_missing_ranks(backlog, settings):
    ps = scoring.priority_scores(backlog, settings)
    assert scoring.rank_problems(ps) == []
    broken = ps.assign(rank_rice=ps["rank_rice"].where(ps["rank_rice"] != 1, 2))
    assert scoring.rank_problems(broken) == [f"rank_rice: ranks are not 1..{len(ps)} once each"]
    missing = ps.assign(rank_wsjf=ps["rank_wsjf"].astype("Float64").where(ps["item_id"] != ps["item_id"].iloc[0]))
    assert scoring.rank_problems(missing) == [f"rank_wsjf: no rank for {ps['item_id'].iloc[0]}"]


def test_rice_on_a_published_example(make_backlog):
    # Intercom's RICE (McBride 2016) as worked through in tools.noemacore.com/rice-scoring:
    # Smart Search 2,000 users x impact 2 x 80 % / 3 person-months = 1,067;
    # Dark Mode 5,000 x 0.5 x 100 % / 1 = 2,500 - Dark Mode first despite its lower impact.
    # (Effort is in our person-weeks; RICE only needs one unit for every item.)
    bl = make_backlog(
        [
            dict(item_id="SEARCH", effort_backend=3.0, reach=2_000.0, impact=2.0, confidence=0.8),
            dict(item_id="DARK", effort_backend=1.0, reach=5_000.0, impact=0.5, confidence=1.0),
        ]
    )
    r = scoring.rice(bl)
    assert r["SEARCH"] == pytest.approx(3_200 / 3) and round(r["SEARCH"]) == 1_067
    assert r["DARK"] == pytest.approx(2_500.0)
    assert scoring.rank_desc(r).to_dict() == {"DARK": 1, "SEARCH": 2}

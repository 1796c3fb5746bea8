"""The recorder: the three tables it builds at the end of a run agree with the run and with each other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model import SCOModel, balancing, membership
from sim.model.recorder import DECISION_DTYPES, table_columns
from sim.rules import OUTCOMES
from sim.scenario import INTERESTS, STATUSES, load_scenario

from .conftest import DATA, SCENARIOS

# Opt-outs, objections, blocked items and accession steps all occur in this run.
BUSY = {
    "rules": {"decision_rule": "consensus_opt_out", "tolerance": 0.02},
    "membership": {"mode": "endogenous", "apply_probability": 0.3},
}


def finished(path, overrides=None, seed=3, until=None):
    """Run a model to its end (not released: the tests read it) and return it with its tables."""
    model = SCOModel(load_scenario(path, overrides=overrides), rng=seed, until=until)
    model.run()
    return model, model.tables()


# Blocked and deferred summit items occur in this one (a wide deferral margin: with participation
# costs most refusals are not mild).
STRICT = {"rules": {"tolerance": 0.01, "deferral_margin": 3.0}}


@pytest.fixture(scope="module")
def busy():
    return finished(SCENARIOS / "history_1996.toml", BUSY)


@pytest.fixture(scope="module")
def strict():
    return finished(SCENARIOS / "history_1996.toml", STRICT)


def test_columns_are_the_declared_ones_and_all_of_one_length(busy):
    model, tables = busy
    columns = model.recorder.columns()
    declared = table_columns(model.poles, model.areas)
    for name in ("model", "states", "decisions"):
        assert list(columns[name]) == declared[name], name
        assert list(tables[name].columns) == declared[name], name
        assert len({len(values) for values in columns[name].values()}) == 1, name
    for name, dtype in DECISION_DTYPES.items():
        assert tables["decisions"][name].dtype == dtype, name


def test_one_model_row_per_year_and_one_state_row_per_state_and_year(busy):
    model, tables = busy
    years = list(range(model.start_year, model.end_year + 1))
    assert tables["model"]["year"].tolist() == years
    states = tables["states"]
    assert len(states) == len(years) * len(model.codes)
    # year-major, states in the model's order within each year
    assert states["year"].tolist() == [y for y in years for _ in model.codes]
    assert states["state"].tolist() == model.codes * len(years)


def test_decision_rows_are_the_items_decided_in_order(busy):
    model, tables = busy
    log = tables["decisions"]
    policy = log[log["origin"] != "membership"]
    assert len(log) == model.item_counter  # every item tabled was decided and logged once
    assert log["item"].tolist() == list(range(1, len(log) + 1))  # each year: summit, then accession steps
    assert (np.diff(log["year"]) >= 0).all()
    per_year = policy.groupby("year").size().reindex(tables["model"]["year"], fill_value=0)
    assert tables["model"]["items"].tolist() == per_year.tolist()
    assert (log["origin"] == "membership").any() and (
        log.loc[log["origin"] == "membership", "area"] == "enlargement"
    ).all()


@pytest.mark.parametrize("run", ["busy", "strict"])
def test_outcome_counts_in_the_model_table_are_those_of_the_decision_log(run, request):
    _, tables = request.getfixturevalue(run)
    log = tables["decisions"]
    policy = log[log["origin"] != "membership"]
    counts = policy.groupby("year")["outcome"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(index=tables["model"]["year"], columns=list(OUTCOMES), fill_value=0)
    model = tables["model"].set_index("year")
    assert counts.values.sum() == len(policy) > 0
    for outcome in OUTCOMES:
        assert model[outcome].tolist() == counts[outcome].tolist(), outcome
    expected = {"busy": {"adopted_opt_out", "diluted"}, "strict": {"blocked", "deferred", "diluted"}}[run]
    assert expected <= set(policy["outcome"])


def test_rates_and_ambition_follow_from_the_log(busy):
    _, tables = busy
    log = tables["decisions"]
    policy = log[log["origin"] != "membership"].copy()
    policy["agreed"] = policy["adopted"].notna() & (policy["objectors"] == "")
    by_year = policy.groupby("year")
    model = tables["model"].set_index("year").loc[list(by_year.groups)]
    np.testing.assert_allclose(model["consensus_rate"], by_year["agreed"].mean())
    np.testing.assert_allclose(model["adoption_rate"], by_year["adopted"].count() / by_year.size())
    np.testing.assert_allclose(model["mean_rounds"], by_year["rounds"].mean())
    np.testing.assert_allclose(model["mean_adopted_ambition"], by_year["adopted"].mean())
    gain = (policy["adopted"] - policy["status_quo"]).fillna(0.0) / 100.0
    np.testing.assert_allclose(model["functional_output"], gain.groupby(policy["year"]).sum())
    quiet = tables["model"][tables["model"]["items"] == 0]
    assert quiet["consensus_rate"].isna().all() and (quiet["functional_output"] == 0).all()


def test_objections_and_opt_outs_per_state_are_counted_from_the_log(busy):
    _model, tables = busy
    log, states = tables["decisions"], tables["states"]
    policy = log[log["origin"] != "membership"]
    # objections count the accession steps too; opt-outs only the summit's items
    for column, named_in, rows in (("objections", "objectors", log), ("opt_outs", "opt_outs", policy)):
        named = rows[named_in].str.split(";").explode()
        named = named[named != ""]
        counted = named.groupby([rows.loc[named.index, "year"], named]).size()
        expected = [counted.get((y, s), 0) for y, s in zip(states["year"], states["state"], strict=True)]
        assert states[column].tolist() == expected, column
        assert sum(expected) > 0, column
    assert tables["model"]["objections"].sum() == policy["objectors"].str.count("[A-Z]{3}").sum()


def test_members_and_voters(busy):
    model, tables = busy
    states = tables["states"]
    members = states[states["status"] == "member"].groupby("year").size()
    assert (
        tables["model"]["members"].tolist() == members.reindex(tables["model"]["year"], fill_value=0).tolist()
    )
    # `members` in the log counts who sat at that year's summit, before the year's accessions
    voters = dict(zip(tables["model"]["year"], model.recorder.voters.sum(axis=1).tolist(), strict=True))
    log = tables["decisions"]
    assert log["members"].tolist() == [voters[y] for y in log["year"]]
    assert (tables["model"]["members"].diff().dropna() >= 0).all()  # nobody leaves in this run
    assert tables["model"]["members"].iloc[-1] > tables["model"]["members"].iloc[0]  # accessions happened


def test_state_figures_are_the_models_own(busy):
    model, tables = busy
    states = tables["states"]
    n = len(model.codes)
    np.testing.assert_array_equal(states["capability"].to_numpy().reshape(-1, n), model.capability_series)
    last = states[states["year"] == model.end_year]
    assert last["status"].tolist() == [s.status for s in sorted(model.agents, key=lambda a: a.index)]
    for p, pole in enumerate(model.poles):
        np.testing.assert_array_equal(last[f"alignment_{pole}"], model.alignment[:, p])
        np.testing.assert_array_equal(last[f"threat_{pole}"], model.threat[:, p])
    for k, area in enumerate(model.areas):
        assert tables["model"][f"depth_{area}"].iloc[-1] == model.depth[k]


def test_pole_weights_and_balancing_index_match_the_live_computation(busy):
    # The recorder recomputes them for all years at once; the last year must equal the model's own.
    model, tables = busy
    weights = balancing.pole_weights(model)
    last = tables["model"].iloc[-1]
    for p, pole in enumerate(model.poles):
        assert last[f"influence_{pole}"] == pytest.approx(weights[p], rel=1e-12, abs=1e-15)
    assert last["balancing_index"] == pytest.approx(balancing.balancing_index(model)[model.focal], rel=1e-12)
    states = tables["states"]
    final = states.loc[states["year"] == model.end_year, "balancing_index"].to_numpy()
    np.testing.assert_allclose(final, model.balancing_indices(), rtol=1e-12)


def test_mean_trust_and_utility(busy):
    model, tables = busy
    voters = model.recorder.voters[-1]
    trust = model.trust[np.ix_(voters, voters)]
    k = int(voters.sum())
    expected = (trust.sum() - k) / (k * (k - 1))
    assert tables["model"]["mean_trust"].iloc[-1] == pytest.approx(expected, rel=1e-12)
    states = tables["states"]
    utility = states[[f"utility_{i}" for i in INTERESTS]]
    sat = np.concatenate(model.recorder.voters[: model.recorder.n_years])
    assert (utility[~sat] == 0).all().all()  # only the states at the summit gain or lose
    assert (utility[sat] != 0).any().any()


def test_collect_keeps_copies_of_the_changing_state():
    model = SCOModel(load_scenario(DATA / "tiny.toml"), rng=0)
    model.step()
    depth, trust = model.depth.copy(), model.trust.copy()
    model.depth[:] = -1.0
    model.trust[:] = -1.0
    recorder = model.recorder
    assert recorder.n_years == 1
    np.testing.assert_array_equal(recorder.depth[0], depth)
    np.testing.assert_array_equal(recorder.trust[0], trust)


def test_a_run_without_items_gives_empty_decisions_and_nan_rates():
    model, tables = finished(DATA / "tiny.toml", {"parameters": {"agenda_size": 0}}, seed=0)
    assert len(tables["decisions"]) == 0
    assert list(tables["decisions"].columns) == table_columns(model.poles, model.areas)["decisions"]
    frame = tables["model"]
    assert (frame["items"] == 0).all() and frame["consensus_rate"].isna().all()
    assert frame["cohesion"].isna().all() and (frame["functional_output"] == 0).all()
    assert len(tables["states"]) == 6 * 3 and (tables["states"]["objections"] == 0).all()


def test_a_shorter_run_records_only_its_years():
    model, tables = finished(DATA / "tiny.toml", seed=0, until=2002)
    assert tables["model"]["year"].tolist() == [2000, 2001, 2002]
    assert len(tables["states"]) == 3 * 3
    assert isinstance(tables["model"], pd.DataFrame) and model.recorder.n_years == 3


def test_a_pole_outside_the_organisation_weighs_nothing():
    # The recorder's pole weights for all years at once must treat an absent pole as the model does.
    model = SCOModel(load_scenario(DATA / "tiny.toml"), rng=0)
    model.step()
    rus = model.index["RUS"]
    membership.set_status(model, rus, STATUSES.index("observer"), model.year)
    model.run()
    weights = balancing.pole_weights(model)
    model_table = model.tables()["model"]
    assert model_table["influence_RUS"].iloc[0] > 0
    assert (model_table["influence_RUS"].iloc[1:] == 0).all() and weights[model.poles.index("RUS")] == 0
    assert model_table["influence_CHN"].iloc[-1] == pytest.approx(
        weights[model.poles.index("CHN")], rel=1e-12
    )
    assert (model_table["balancing_index"].iloc[1:] == 0).all()


def test_joined_names_match_a_plain_join_row_by_row():
    """The cached bit-pattern join gives the plain join, for few codes and for more than 62."""
    from sim.model.yearitems import join_flagged, join_groups

    rng = np.random.default_rng(7)
    for n_codes in (3, 18, 70):
        codes = [f"S{k}" for k in range(n_codes)]
        mask = rng.random((40, n_codes)) < 0.2
        mask[0] = False
        expected = [";".join(c for c, f in zip(codes, row, strict=True) if f) for row in mask.tolist()]
        assert join_flagged(mask, codes) == expected
        assert join_flagged(mask, codes) == expected  # the second call reads the cache
    rows = np.array([0, 0, 2, 5, 5, 5])
    assert join_groups(rows, list("abcdef"), 7) == ["a;b", "", "c", "", "", "d;e;f", ""]
    assert join_groups(np.array([], dtype=int), [], 2) == ["", ""]

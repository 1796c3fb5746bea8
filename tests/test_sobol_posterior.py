"""Sobol' indices over a posterior: [sensitivity] posterior = FILE, each column drawn from its marginal."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.experiments.design import load_sensitivity
from sim.experiments.marginals import quantiles

from .conftest import DATA

EXPERIMENT = """schema_version = 1
name = "sobol_posterior"
base_seed = 11
replications = 1

[arms.consensus]
scenario = "tiny.toml"

[arms.qmv]
scenario = "tiny.toml"
overrides = {{ rules = {{ decision_rule = "qualified_majority" }} }}

[sensitivity]
{table}
effects = {{ rate = "consensus_rate[qmv] - consensus_rate[consensus]" }}

[metrics.consensus_rate]
column = "consensus_rate"
"""

GOOD = 'method = "sobol"\nsamples = 64\nseed = 3\nposterior = "post.csv"\nparameters = { trust_gain = [0.01, 0.08] }'


def skewed_posterior(rows: int = 400) -> pd.DataFrame:
    """A posterior sample far from uniform: a skewed tolerance and a whole-number agenda size."""
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "draw": np.arange(rows),
            "rules.tolerance": 0.02 + 0.2 * rng.beta(2.0, 8.0, rows),
            "parameters.agenda_size": rng.choice([2, 3, 6], size=rows, p=[0.6, 0.3, 0.1]),
        }
    )


def write(tmp_path, table: str = GOOD, posterior: pd.DataFrame | None = None):
    shutil.copy(DATA / "tiny.toml", tmp_path / "tiny.toml")
    (skewed_posterior() if posterior is None else posterior).to_csv(tmp_path / "post.csv", index=False)
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.format(table=table))
    return path


def test_the_quantile_mapping_reproduces_the_posterior_marginals_and_ranges_stay_uniform(tmp_path):
    design = load_sensitivity(write(tmp_path))
    names = [p.name for p in design.parameters]
    assert names == ["trust_gain", "tolerance", "agenda_size"]
    assert [p.distribution for p in design.parameters] == ["uniform", "posterior", "posterior"]
    sample = pd.DataFrame(design.sample, columns=names)
    assert len(sample) == 64 * (3 + 2)
    posterior = skewed_posterior()
    # the drawn tolerance follows the posterior's marginal (KS distance small), every value one of its own
    ks = stats.ks_2samp(sample["tolerance"], posterior["rules.tolerance"]).statistic
    assert ks < 0.05, ks
    assert set(sample["tolerance"]) <= set(posterior["rules.tolerance"])
    # ... which a uniform draw over its range would not (the test can fail)
    low, high = posterior["rules.tolerance"].min(), posterior["rules.tolerance"].max()
    unit = np.linspace(0, 1, len(sample))
    assert stats.ks_2samp(low + unit * (high - low), posterior["rules.tolerance"]).statistic > 0.2
    # a whole-number column keeps its values and their shares
    shares = sample["agenda_size"].value_counts(normalize=True)
    assert set(shares.index) == {2, 3, 6}
    for value, share in posterior["parameters.agenda_size"].value_counts(normalize=True).items():
        assert abs(shares[value] - share) < 0.05, (value, shares[value], share)
    # a parameter given a range stays uniform over it
    assert sample["trust_gain"].between(0.01, 0.08).all()
    assert stats.kstest(sample["trust_gain"], stats.uniform(0.01, 0.07).cdf).statistic < 0.05
    # the points reach the runs as drawn (agenda_size whole)
    first = design.runs[0].scenario
    assert first.rules.tolerance == sample["tolerance"][0]
    assert first.parameters.agenda_size == int(sample["agenda_size"][0])
    assert isinstance(first.parameters.agenda_size, int)
    described = design.describe()["sensitivity"]["posterior"]
    assert described["rows"] == 400 and described["quantile"] == "inverted_cdf"
    assert len(described["sha256"]) == 64 and len(described["correlations"]) == 2


def test_quantiles_are_the_inverse_of_the_empirical_distribution():
    values = np.array([3.0, 1.0, 2.0, 10.0])
    assert list(quantiles(values, np.array([0.0, 0.25, 0.26, 0.5, 0.51, 0.99, 1.0]))) == [
        1.0, 1.0, 2.0, 2.0, 3.0, 10.0, 10.0,
    ]  # fmt: skip


def test_a_sobol_analysis_over_a_posterior_runs_and_reports_the_dropped_correlations(tmp_path, capsys):
    posterior = skewed_posterior(60)
    posterior["rules.tolerance"] = posterior["rules.tolerance"].sort_values().to_numpy()
    posterior["parameters.agenda_size"] = np.sort(posterior["parameters.agenda_size"].to_numpy())
    table = 'method = "sobol"\nsamples = 4\nseed = 3\nreplications = 2\nposterior = "post.csv"'
    path = write(tmp_path, table, posterior)
    out = tmp_path / "out"
    status = main(["sensitivity", str(path), "--sequential", "--no-progress", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert status == 0
    assert "drawn from the posterior marginals of post.csv (60 draws;" in stdout
    r = posterior["rules.tolerance"].corr(posterior["parameters.agenda_size"])
    assert f"up to |r| = {abs(r):.2f}, are dropped" in stdout and abs(r) > 0.5
    assert "seed noise:" in stdout and "posterior [" in stdout
    indices = pd.read_csv(out / "sensitivity.csv")
    assert list(indices["distribution"]) == ["posterior", "posterior"]
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(indices.columns)
    summary = json.loads((out / "sensitivity.json").read_text())
    effect = summary["effects"][0]
    assert effect["seed_noise_variance"] > 0 and 0 < effect["parameter_share_max"] <= 1
    assert summary["posterior"]["max_abs_correlation"] == pytest.approx(abs(r), abs=1e-4)


def test_morris_manifests_do_not_change():
    design = load_sensitivity(DATA / "mini_sensitivity.toml")
    assert all("distribution" not in p for p in design.sensitivity["parameters"])
    assert "posterior" not in design.sensitivity


@pytest.mark.parametrize(
    ("table", "fragments"),
    [
        ('method = "morris"\nposterior = "post.csv"', ["sensitivity.posterior", 'method = "sobol" only']),
        ('method = "sobol"\nsamples = 4\nposterior = "post.csv"\nparameters = { tolerance = [0.01, 0.1] }',
         ["sensitivity.parameters.tolerance", "column of the posterior sample"]),
        ('method = "sobol"\nsamples = 4\nposterior = "missing.csv"', ["sensitivity.posterior", "does not exist"]),
        ('method = "sobol"\nsamples = 4\nposterior = ""', ["sensitivity.posterior", "at least 1 character"]),
        ('method = "sobol"\nsamples = 4', ["sensitivity.parameters", "or a posterior"]),
    ],
)  # fmt: skip
def test_a_bad_table_is_one_line_and_exit_2(tmp_path, capsys, table, fragments):
    path = write(tmp_path, table)
    status = main(["sensitivity", str(path), "--sequential", "--no-progress", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not (tmp_path / "o").exists()


def test_a_posterior_column_an_arm_sets_is_refused(tmp_path, capsys):
    path = write(tmp_path)
    path.write_text(path.read_text().replace('decision_rule = "qualified_majority"', "tolerance = 0.05"))
    status = main(["sensitivity", str(path), "--sequential", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and "'rules.tolerance' is also set in the overrides of arm 'qmv'" in err

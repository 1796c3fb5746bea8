"""Score the decision rules on real collective decisions (``sco-sim bargain-bench``).

Every registered rule forecasts every issue of a decision-data file
(:mod:`sim.decisiondata`) that has a coded outcome; the score is the mean
absolute error on the 0-100 scale, overall and by voting rule, beside naive
baselines. Rules with free parameters are also scored out of fold: the issues
are split into ``folds`` groups with a fixed seed, each parameter is chosen on
the other groups by the smallest error over a fixed grid, and the issue is
predicted with it. Predictions do not depend on the other issues, so each grid
point is run once and the folds only choose among the columns.

How the rules are fed (the same data for all): the actors are those with a
position on the issue; the status quo is the coded reference point, or
``default_status_quo`` (0, the end of the scale where DEU puts it on 79% of the
issues that code one) where none is coded; the proposal is the position of the
formal proposer (the Commission in DEU), or the capability x salience weighted
mean where there is none; tolerance and procedure as :class:`RuleSettings`.

    >>> from sim.analysis.bargainbench import benchmark
    >>> result = benchmark(read_decision_data("deu3.csv"), folds=5, seed=0)
    >>> print(format_table(result))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.rules import RULES, BargainInput, RuleSettings, get_rule
from sim.rules.decisiondata import QUALIFIED_MAJORITY, UNANIMITY, DecisionData
from sim.rules.expected_utility import weighted_median

#: Tolerance given to every actor when the rules are run as registered (as in ``sco-sim bargain``).
DEFAULT_TOLERANCE = 0.05
DEFAULT_STATUS_QUO = 0.0
#: Published figure the compromise rule must reproduce on DEU III (README of the data folder).
REFERENCE_COMPROMISE_MAE = 23.2

#: Naive predictors, by their column in the predictions file.
BASELINES = {
    "baseline_50": "constant 50",
    "baseline_status_quo": "status quo (reference point)",
    "baseline_mean": "unweighted mean of positions",
    "baseline_weighted_median": "capability x salience weighted median",
}


@dataclass(frozen=True)
class Tunable:
    """A rule with parameters to fit by cross-validation over issues.

    Attributes:
        key: Short name; its out-of-fold predictions are the column ``<key>_cv``.
        rule: Registered rule name.
        label: What is fitted, for the table.
        grid: Candidate settings: each a dict of :class:`RuleSettings` fields, or
            ``tolerance`` (the loss every actor accepts without objecting).

    """

    key: str
    rule: str
    label: str
    grid: tuple[dict[str, float], ...]


def _grid(**axes: tuple[float, ...]) -> tuple[dict[str, float], ...]:
    names = list(axes)
    return tuple(dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values()))


TOLERANCES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
CAPABILITY_EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
TUNABLE: tuple[Tunable, ...] = (
    Tunable(
        "compromise_a",
        "compromise",
        "capability exponent",
        _grid(compromise_capability_exponent=CAPABILITY_EXPONENTS),
    ),
    Tunable(
        "compromise_ab",
        "compromise",
        "capability and salience exponents",
        _grid(
            compromise_capability_exponent=CAPABILITY_EXPONENTS,
            compromise_salience_exponent=(0.0, 0.5, 1.0, 1.5, 2.0),
        ),
    ),
    Tunable("consensus_t", "consensus", "tolerance", _grid(tolerance=TOLERANCES)),
    Tunable("consensus_opt_out_t", "consensus_opt_out", "tolerance", _grid(tolerance=TOLERANCES)),
    Tunable(
        "qualified_majority_tq",
        "qualified_majority",
        "tolerance and threshold",
        _grid(tolerance=TOLERANCES, majority_threshold=(0.55, 2 / 3, 0.75)),
    ),
    Tunable(
        "expected_utility_r", "expected_utility", "rounds", _grid(expected_utility_rounds=(1, 2, 3, 5, 10))
    ),
    Tunable(
        "expected_utility_bdm_r",
        "expected_utility_bdm",
        "rounds",
        _grid(expected_utility_rounds=(1, 2, 3, 5, 10)),
    ),
)
#: The meta-rule that picks, within each fold, the best of every grid point of every tunable rule.
SELECTED = "selected"


@dataclass
class CrossValidated:
    """Out-of-fold result of one tunable rule."""

    key: str
    rule: str
    label: str
    prediction: np.ndarray
    folds: pd.DataFrame  # fold, issues, chosen, train_mae, test_mae

    @property
    def name(self) -> str:
        """Return the column name of the out-of-fold predictions."""
        return f"{self.key}_cv"


@dataclass
class BenchResult:
    """Predictions per issue, errors per predictor and the cross-validation folds."""

    source: str
    predictions: pd.DataFrame
    errors: pd.DataFrame
    cross_validated: list[CrossValidated]
    folds: int
    seed: int
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> CrossValidated | None:
        """Return the tunable rule with the smallest out-of-fold error (the per-fold selection aside)."""
        tuned = [cv for cv in self.cross_validated if cv.key != SELECTED]
        if not tuned:
            return None
        return min(tuned, key=lambda cv: float(self.errors.loc[cv.name, "all"]))

    def paired_difference(
        self, name: str, against: str = "compromise", draws: int = 2000
    ) -> tuple[float, ...]:
        """Return the mean of |error(name)| - |error(against)| and its 95% bootstrap interval over issues."""
        p = self.predictions
        both = p[name].notna() & p[against].notna()
        outcome = p.loc[both, "outcome"].to_numpy()
        diff = np.abs(p.loc[both, name].to_numpy() - outcome) - np.abs(
            p.loc[both, against].to_numpy() - outcome
        )
        rng = np.random.default_rng(self.seed)
        means = diff[rng.integers(0, len(diff), size=(draws, len(diff)))].mean(axis=1)
        low, high = np.quantile(means, [0.025, 0.975])
        return float(diff.mean()), float(low), float(high)


def _inputs(data: DecisionData, default_status_quo: float) -> BargainInput:
    """Build the rules' input from decision data (capabilities are set per group in :func:`_predict`)."""
    present = data.present
    positions = np.where(present, data.positions, 0.0)
    weight = np.where(present, data.saliences * data.capabilities, 0.0)
    total = weight.sum(axis=1)
    unweighted = np.nanmean(np.where(present, data.positions, np.nan), axis=1)
    with np.errstate(all="ignore"):
        weighted_mean = np.where(total > 0, (weight * positions).sum(axis=1) / total, unweighted)
    status_quo = data.issues["status_quo"].fillna(default_status_quo).to_numpy(float)
    proposer = data.issues["proposer_position"].to_numpy(float)
    return BargainInput(
        positions=positions,
        saliences=data.saliences,
        capabilities=np.zeros(len(data.actors)),
        status_quo=status_quo,
        proposal=np.where(np.isfinite(proposer), proposer, weighted_mean),
        tolerance=np.full(len(data.actors), DEFAULT_TOLERANCE),
        voters=present,
    )


def _predict(
    rule: str, inputs: BargainInput, capabilities: np.ndarray, point: dict[str, float]
) -> np.ndarray:
    """Return one rule's forecast of every issue under one grid point.

    ``point`` holds :class:`RuleSettings` fields and optionally ``tolerance``.
    Issues that share a row of capabilities are decided together (the rules take
    one capability per actor).
    """
    point = dict(point)
    tolerance = np.full(inputs.shape[1], float(point.pop("tolerance", DEFAULT_TOLERANCE)))
    if "expected_utility_rounds" in point:
        point["expected_utility_rounds"] = int(point["expected_utility_rounds"])
    settings = replace(RuleSettings(), **point)
    rows, group = np.unique(capabilities, axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    prediction = np.full(inputs.shape[0], np.nan)
    for g, row in enumerate(rows):
        take = np.flatnonzero(group == g)
        part = BargainInput(
            positions=inputs.positions[take],
            saliences=inputs.saliences[take],
            capabilities=row,
            status_quo=inputs.status_quo[take],
            proposal=inputs.proposal[take],
            tolerance=tolerance,
            voters=np.asarray(inputs.voters)[take],
        )
        prediction[take] = get_rule(rule)(part, settings).prediction
    return prediction


def fold_of(n_issues: int, folds: int, seed: int) -> np.ndarray:
    """Return the fold (0 .. folds-1) of each issue: a seeded shuffle dealt round-robin."""
    order = np.random.default_rng(seed).permutation(n_issues)
    assignment = np.empty(n_issues, dtype=int)
    assignment[order] = np.arange(n_issues) % folds
    return assignment


def cross_validate(
    candidates: np.ndarray, labels: list[str], outcome: np.ndarray, assignment: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    """Choose a candidate on the training folds and predict the held-out fold with it.

    Args:
        candidates: (candidates, issues) predictions of each grid point.
        labels: A description of each candidate, for the fold table.
        outcome: (issues,) coded outcomes.
        assignment: (issues,) fold of each issue.

    Returns:
        The out-of-fold predictions and one row per fold: issues, the candidate
        chosen, its error on the training folds and on the fold held out.

    """
    error = np.abs(candidates - outcome[None, :])
    prediction = np.full(len(outcome), np.nan)
    rows = []
    for fold in range(int(assignment.max()) + 1):
        test = assignment == fold
        train_error = np.nanmean(error[:, ~test], axis=1)
        chosen = int(np.nanargmin(train_error))  # first of equals: the grid's order
        prediction[test] = candidates[chosen, test]
        rows.append(
            {
                "fold": fold + 1,
                "issues": int(test.sum()),
                "chosen": labels[chosen],
                "train_mae": float(train_error[chosen]),
                "test_mae": float(np.nanmean(error[chosen, test])),
            }
        )
    return prediction, pd.DataFrame(rows)


def _describe(point: dict[str, float]) -> str:
    short = {"compromise_capability_exponent": "a", "compromise_salience_exponent": "b"}
    names = {"expected_utility_rounds": "rounds", "majority_threshold": "threshold"}
    return ", ".join(f"{short.get(k, names.get(k, k))}={v:.3g}" for k, v in point.items())


def benchmark(
    data: DecisionData,
    rules: list[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    default_status_quo: float = DEFAULT_STATUS_QUO,
    tunable: tuple[Tunable, ...] = TUNABLE,
) -> BenchResult:
    """Score every rule and baseline on the issues of ``data`` that have an outcome.

    Args:
        data: Decision data (:func:`sim.decisiondata.read_decision_data`).
        rules: Rule names (default: every registered rule), run with default settings
            and tolerance :data:`DEFAULT_TOLERANCE`.
        folds: Cross-validation folds over issues (at least 2, at most the issues scored).
        seed: Seed of the fold split (and of the bootstrap of paired differences).
        default_status_quo: Status quo of issues without a coded reference point.
        tunable: Rules to fit by cross-validation (only those in ``rules`` are run).

    Raises:
        ValueError: when no issue has both an outcome and a position.

    """
    rules = list(RULES) if rules is None else rules
    data = data.subset(data.scored)
    n = len(data.issues)
    if n < 2:  # cross-validation holds out one fold and fits on the others
        raise ValueError(f"{n} issue(s) have both an outcome and a position; at least 2 are needed")
    folds = max(2, min(folds, n))
    outcome = data.issues["outcome"].to_numpy(float)
    inputs = _inputs(data, default_status_quo)
    columns = _baselines(data)
    for rule in rules:
        columns[rule] = _predict(rule, inputs, data.capabilities, {})
    assignment = fold_of(n, folds, seed)
    validated = _cross_validated(data, inputs, [t for t in tunable if t.rule in rules], outcome, assignment)
    columns.update({entry.name: entry.prediction for entry in validated})
    predictions = data.issues[["issue", "line", "rule", "status_quo", "outcome"]].rename(
        columns={"rule": "voting_rule"}
    )
    predictions.insert(3, "fold", assignment + 1)
    predictions.insert(4, "actors", data.present.sum(axis=1))
    predictions = pd.concat([predictions, pd.DataFrame(columns, index=predictions.index)], axis=1)
    errors = _errors(columns, outcome, data.issues["rule"].to_numpy())
    notes = list(data.notes)
    missing_sq = int(data.issues["status_quo"].isna().sum())
    if missing_sq:
        notes.append(
            f"{missing_sq} of {n} issues have no reference point: the status-quo baseline skips them and "
            f"the rules take the status quo as {default_status_quo:g}"
        )
    return BenchResult(data.source, predictions, errors, validated, folds, seed, notes)


def _baselines(data: DecisionData) -> dict[str, np.ndarray]:
    """Naive predictions: the middle of the scale, the status quo, the mean and weighted median."""
    present = data.present
    return {
        "baseline_50": np.full(len(data.issues), 50.0),
        "baseline_status_quo": data.issues["status_quo"].to_numpy(float),
        "baseline_mean": np.nanmean(np.where(present, data.positions, np.nan), axis=1),
        "baseline_weighted_median": weighted_median(
            np.where(present, data.positions, 0.0), data.saliences * data.capabilities, present
        ),
    }


def _cross_validated(
    data: DecisionData,
    inputs: BargainInput,
    tunable: list[Tunable],
    outcome: np.ndarray,
    assignment: np.ndarray,
) -> list[CrossValidated]:
    """Fit each tunable rule's parameters per fold; with several, also the rule itself per fold."""
    validated: list[CrossValidated] = []
    pooled: list[np.ndarray] = []
    pooled_labels: list[str] = []
    for tunable_rule in tunable:
        candidates = np.stack(
            [_predict(tunable_rule.rule, inputs, data.capabilities, point) for point in tunable_rule.grid]
        )
        labels = [_describe(point) for point in tunable_rule.grid]
        prediction, table = cross_validate(candidates, labels, outcome, assignment)
        validated.append(
            CrossValidated(tunable_rule.key, tunable_rule.rule, tunable_rule.label, prediction, table)
        )
        pooled.append(candidates)
        pooled_labels += [f"{tunable_rule.rule} {label}" for label in labels]
    if len(validated) > 1:
        prediction, table = cross_validate(np.concatenate(pooled), pooled_labels, outcome, assignment)
        label = "rule and parameters chosen per fold"
        validated.append(CrossValidated(SELECTED, "any rule", label, prediction, table))
    return validated


def _errors(columns: dict[str, np.ndarray], outcome: np.ndarray, voting: np.ndarray) -> pd.DataFrame:
    rows = {}
    for name, values in columns.items():
        error = np.abs(values - outcome)
        scored = np.isfinite(error)
        row = {"n": int(scored.sum())}
        for label, mask in (
            ("all", scored),
            (UNANIMITY, scored & (voting == UNANIMITY)),
            (QUALIFIED_MAJORITY, scored & (voting == QUALIFIED_MAJORITY)),
        ):
            row[label] = float(error[mask].mean()) if mask.any() else np.nan
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")[["all", UNANIMITY, QUALIFIED_MAJORITY, "n"]]


def format_table(result: BenchResult) -> str:
    """Return the benchmark as a text table, then the folds of each cross-validated rule."""
    p = result.predictions
    counts = p["voting_rule"].value_counts()
    width = 52
    lines = [
        f"{result.source}: {len(p)} issues with an outcome ({counts.get(UNANIMITY, 0)} unanimity, "
        f"{counts.get(QUALIFIED_MAJORITY, 0)} qualified majority)",
        "mean absolute error on the 0-100 scale",
        "",
        f"  {'predictor':<{width}} {'all':>6} {'unanim.':>8} {'QMV':>6} {'issues':>7}",
    ]

    def row(label: str, name: str, extra: str = "") -> str:
        e = result.errors.loc[name]
        cells = " ".join(f"{v:>{w}}" for v, w in zip(_cells(e), (6, 8, 6), strict=True))
        return f"  {label:<{width}} {cells} {int(e['n']):>7}{extra}"

    lines.append("  baselines")
    lines += [row("  " + label, name) for name, label in BASELINES.items()]
    lines.append(f"  rules as registered (default settings, tolerance {DEFAULT_TOLERANCE:g})")
    for name in RULES:
        if name in result.errors.index:
            extra = f"  (DEU III reference {REFERENCE_COMPROMISE_MAE})" if name == "compromise" else ""
            lines.append(row("  " + name, name, extra))
    if result.cross_validated:
        lines.append(
            f"  fitted by cross-validation: out-of-fold error ({result.folds} folds over issues, "
            f"seed {result.seed})"
        )
        lines += [row(f"  {cv.rule} [{cv.label}]", cv.name) for cv in result.cross_validated]
    best = result.best
    if best is not None:
        figure = float(result.errors.loc[best.name, "all"])
        line = f"best out of fold: {best.rule} [{best.label}] {figure:.2f}"
        if "compromise" in result.errors.index:
            registered = float(result.errors.loc["compromise", "all"])
            verdict = "below" if figure < registered else "not below"
            mean, low, high = result.paired_difference(best.name)
            line += (
                f", {verdict} the compromise rule as registered ({registered:.2f})\n  paired difference "
                f"from it {mean:+.2f} per issue, 95% bootstrap interval {low:+.2f} to {high:+.2f}"
            )
        lines += ["", line]
        lines += ["", "folds (parameters chosen on the other folds; error on the fold held out):"]
        for cv in result.cross_validated:
            lines.append(f"  {cv.rule} [{cv.label}]")
            for f in cv.folds.itertuples(index=False):
                lines.append(
                    f"    fold {f.fold}  {f.issues:>3} issues  train {f.train_mae:6.2f}  "
                    f"held out {f.test_mae:6.2f}  {f.chosen}"
                )
    if result.notes:
        lines += ["", *[f"note: {note}" for note in result.notes]]
    return "\n".join(lines)


def _cells(e: pd.Series) -> list[str]:
    return ["-" if pd.isna(e[k]) else f"{e[k]:.2f}" for k in ("all", UNANIMITY, QUALIFIED_MAJORITY)]


def write_predictions(result: BenchResult, path: str | Path) -> Path:
    """Write the per-issue predictions (one column per predictor) to a CSV file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    result.predictions.to_csv(path, index=False, float_format="%.4f")
    return path

"""A posterior sample as the distributions of a Sobol' analysis: each column's marginal, independent.

A ``[sensitivity]`` table with ``posterior = "FILE"`` (``method = "sobol"``) draws every column of
that posterior sample (the ``posterior.csv`` of ``sco-sim calibrate``, checked as a ``[posterior]``
file is, :func:`sim.experiments.posterior.parse_posterior`) from its **marginal**: SALib's
Saltelli/Sobol' design is drawn on the unit cube, and each of these columns' coordinates ``u`` is
mapped through the empirical quantile function of the column (:func:`quantiles`), so the points
of the design follow the posterior's marginal distributions; parameters given with ranges keep
their uniform ranges.

**Independence.** Sobol' indices are defined for independent inputs (their variance
decomposition needs it; Saltelli et al. 2010), so the design takes the marginals independently
and drops the posterior's correlations. :attr:`Marginals.correlations` keeps them (Pearson's r
over the file's rows), and the analysis reports them, so a reader can judge what is dropped.

**The quantile function** is the inverse of the empirical distribution function
(``numpy.quantile(..., method="inverted_cdf")``, Hyndman and Fan 1996, definition 1): every value
drawn is one of the file's own values (a whole-number key stays whole), and the drawn values'
distribution converges to the column's as the sample grows.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ExperimentError
from sim.experiments.posterior import EXPECTED, parse_posterior
from sim.files import read_file, real_path

QUANTILE_METHOD = "inverted_cdf"


@dataclass(frozen=True)
class Marginals:
    """The columns of a checked posterior sample, for drawing each from its marginal."""

    file: str  # as written in the experiment file
    path: Path  # the file read
    sha256: str
    rows: int
    columns: tuple[str, ...]  # dotted scenario keys, in the file's order
    values: dict[str, np.ndarray]  # each column's values over the rows (read-only)

    def correlations(self) -> list[list[float]]:
        """Pearson's r between the columns over the rows (1 on the diagonal; 0 where a column is constant)."""
        matrix = np.vstack([self.values[c] for c in self.columns])
        spread = matrix.std(axis=1) > 0
        r = np.eye(len(self.columns))
        if spread.sum() > 1:
            r[np.ix_(spread, spread)] = np.corrcoef(matrix[spread])
        return [[round(float(x), 4) for x in row] for row in r]

    def describe(self) -> dict[str, Any]:
        """Plain description for the manifest: the file (its SHA-256), the rule, the dropped correlations."""
        r = np.asarray(self.correlations())
        off = np.abs(r[~np.eye(len(r), dtype=bool)]) if len(r) > 1 else np.zeros(0)
        return {
            "file": self.file,
            "path": str(self.path),
            "sha256": self.sha256,
            "rows": self.rows,
            "columns": list(self.columns),
            "quantile": QUANTILE_METHOD,
            "correlations": r.tolist(),
            "max_abs_correlation": float(np.max(off)) if off.size else 0.0,
        }


def read_marginals(file: str, experiment_path: Path) -> Marginals:
    """Read and check the posterior sample ``file`` named by an experiment (relative to its file).

    Raises:
        ExperimentError: one line naming the file, the column and the line.

    """
    path = real_path(experiment_path.parent / file)
    referrer = str(experiment_path)
    raw = read_file(path, ExperimentError, EXPECTED, referrer=referrer, key="sensitivity.posterior")
    columns, rows, values = _parsed(raw, str(path))
    return Marginals(file, path, hashlib.sha256(raw).hexdigest(), rows, columns, values)


@functools.lru_cache(maxsize=4)
def _parsed(raw: bytes, where: str) -> tuple[tuple[str, ...], int, dict[str, np.ndarray]]:
    """Parse a posterior file once per process (checking 1,000 rows takes about half a second)."""
    columns, draws, rows = parse_posterior(raw, where)
    values = {c: np.array([row[c] for row in rows], dtype=float) for c in columns}
    for array in values.values():
        array.setflags(write=False)
    return tuple(columns), len(draws), values


def quantiles(values: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Map coordinates ``unit`` in [0, 1] through the empirical quantile function of ``values``.

    The inverse of the empirical distribution function: the smallest value whose share of
    values at or below it reaches ``u``; every result is one of ``values``.
    """
    levels = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    drawn = np.quantile(np.asarray(values, dtype=float), levels, method="inverted_cdf")
    return np.asarray(drawn, dtype=float)

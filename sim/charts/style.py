"""The look every chart shares: one colour table, one figure saver, one column check, literal text.

Every colour a chart draws with is named here, so the run, batch and sensitivity charts
speak the same language (an outcome class, an arm, a verdict has one colour everywhere).
:func:`save` writes PNG or SVG files whose bytes depend only on the figure, so the same
data always give the same files: PNG at 300 dpi (``PNG_DPI``, for print) and SVG with its
text as ``<text>`` elements (``svg.fonttype = "none"``), so a title or label can be edited
in a vector editor. Every chart is drawn under :func:`literal_text` and saved the same way:
names from files (a scenario, an arm, an area, a claim) are shown as written, never parsed
as mathtext (``$x$`` is two dollar signs and an x). The batch charts are also drawn under
:func:`paper`: small type on a figure a printed page can hold (7.2 inches wide).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")  # files only; no display is assumed

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text

F = TypeVar("F", bound=Callable[..., Any])

#: Settings every chart is drawn and saved with: text is shown as written, not as mathtext.
LITERAL_TEXT: Any = {"text.parse_math": False}
#: Resolution of every PNG (print quality); the SVG is vector and has real text.
PNG_DPI = 300
#: Settings of every saved file: stable ids inside the SVG, its text kept as text, literal text.
SAVE_SETTINGS: Any = {"svg.hashsalt": "sco-sim", "svg.fonttype": "none", **LITERAL_TEXT}
#: The width of a figure meant for a printed page (two columns of a journal page), in inches.
PAGE_WIDTH = 7.2
#: The most colours (besides black, grey and white) one panel of a batch chart uses.
MAX_COLOURS = 4
#: Type sizes and frames of the batch charts (figures a paper can print at their size).
PAPER: Any = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "figure.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlelocation": "left",
}


def literal_text(draw: F) -> F:
    """Decorate a chart function: every text it makes is shown as written (no mathtext, ``$`` is a dollar)."""

    @functools.wraps(draw)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(LITERAL_TEXT):
            return draw(*args, **kwargs)

    return drawn  # type: ignore[return-value]


def paper(draw: F) -> F:
    """Decorate a batch chart function: literal text and the type sizes of :data:`PAPER`."""

    @functools.wraps(draw)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context({**PAPER, **LITERAL_TEXT}):
            return draw(*args, **kwargs)

    return drawn  # type: ignore[return-value]


# --- colours ------------------------------------------------------------------------------------

OUTCOME_COLOURS: dict[str, str] = {
    "adopted": "#2b8a3e",
    "adopted_opt_out": "#74b816",
    "diluted": "#f59f00",
    "blocked": "#c92a2a",
    "deferred": "#868e96",
}
OUTCOME_LABELS: dict[str, str] = {
    "adopted": "adopted by all",
    "adopted_opt_out": "adopted, some opting out",
    "diluted": "diluted (declarative)",
    "blocked": "blocked",
    "deferred": "deferred",
}
# Okabe & Ito (2008) colour-blind-safe palette, black last.
ARM_COLOURS: tuple[str, ...] = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
)  # fmt: skip
#: verdicts of a claim (``sim.analysis.compare``)
VERDICT_COLOURS: dict[str, str] = {
    "supported": "#2b8a3e",
    "contradicted": "#c92a2a",
    "equivalent": "#1c7ed6",
    "inconclusive": "#868e96",
    "no variation": "#7048e8",
    "insufficient data": "#ced4da",
}
BAND_FILL = "#e9ecef"  # the band of practical equivalence of a claim
#: verdicts of a sensitivity analysis on an effect's sign
ROBUSTNESS_COLOURS: dict[str, str] = {
    "robust": "#2b8a3e",
    "fragile": "#c92a2a",
    "uncertain": "#868e96",
    "insufficient data": "#868e96",
}
#: the sign of an effect at a sample point, and its legend text
SIGN_COLOURS: dict[str, str] = {
    "negative": "#0072B2",
    "positive": "#D55E00",
    "unclear": "#868e96",
    "missing": "#ced4da",
}
SIGN_LABELS: dict[str, str] = {
    "negative": "clearly negative",
    "positive": "clearly positive",
    "unclear": "within noise of 0",
    "missing": "no value",
}
INDEX_LINE = "#1c7ed6"  # the balancing index of one run
REFERENCE = "#adb5bd"  # the other arms' lines, drawn behind an arm's own panel
DOTS = "#868e96"  # one paired difference per seed
NO_DATA = "#f1f3f5"  # a heatmap cell with no value (e.g. a state that is not a member in that arm)
DISSENT_MAPS: dict[str, str] = {"objected": "Reds", "stood aside": "Blues"}  # share of runs
BAND = "#868e96"  # legend swatch of an envelope's bands
TEXT = "#495057"  # titles without a verdict colour
INK = "#212529"  # error bars
BAR = "#4c6ef5"  # the main index of a sensitivity bar (mu*, ST)
BAR_INNER = "#91a7ff"  # Sobol' S1 inside ST
MARKER = "#e8590c"  # Morris sigma
HEATMAP = "Reds"  # objections per state and arm
SIMULATED_DATE = "#1f77b4"  # a seed's date of a milestone (validation)
RECORD_DATE = "#d62728"  # the date in the record (validation)


def arm_colours(arms: Iterable[str]) -> dict[str, str]:
    """Return a colour for each distinct arm, in order of first appearance."""
    return {arm: ARM_COLOURS[k % len(ARM_COLOURS)] for k, arm in enumerate(dict.fromkeys(arms))}


def panel_colours(arms: Iterable[str]) -> dict[str, str]:
    """Return a colour for each distinct arm of a batch chart: the first four colours, per group of four.

    The batch charts put at most ``MAX_COLOURS`` arms in a panel (each group of four has its
    own panels and its own key), so four well-separated colours suffice and the pale ones
    (yellow) are never used for a line or a band.
    """
    return {arm: ARM_COLOURS[k % MAX_COLOURS] for k, arm in enumerate(dict.fromkeys(arms))}


def area_colours() -> list[Any]:
    """Return 20 colours for issue areas: the dark shades of tab20 first, so neighbouring areas differ."""
    tab20 = plt.get_cmap("tab20")
    return [tab20(i) for i in (*range(0, 20, 2), *range(1, 20, 2))]


# --- tables -------------------------------------------------------------------------------------


def require(table: Any, columns: Iterable[str], name: str) -> None:
    """Raise ValueError naming the columns a chart needs that ``table`` lacks."""
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"{name} table lacks columns {missing}")


# --- files --------------------------------------------------------------------------------------

#: format -> metadata that would change the bytes from one save to the next
SAVE_METADATA: dict[str, dict[str, None]] = {"png": {"Software": None}, "svg": {"Date": None}}


def check_formats(formats: Sequence[str]) -> None:
    """Raise ValueError on a chart format other than ``png`` and ``svg``."""
    for fmt in formats:
        if fmt not in SAVE_METADATA:
            raise ValueError(f"unsupported chart format {fmt!r}; use one of {list(SAVE_METADATA)}")


def save(figure: Figure, path: str | Path, fmt: str = "png") -> Path:
    """Save a figure without volatile metadata, so the same data give the same bytes.

    Args:
        figure: The figure to save.
        path: Where to write.
        fmt: ``"png"`` (at ``PNG_DPI``) or ``"svg"`` (text kept as ``<text>`` elements).

    Returns:
        The path written.

    """
    check_formats([fmt])
    path = Path(path)
    for text in figure.findobj(Text):  # also texts made outside literal_text
        text.set_parse_math(False)
    with matplotlib.rc_context(SAVE_SETTINGS):
        figure.savefig(
            path, format=fmt, metadata=SAVE_METADATA[fmt], dpi=PNG_DPI if fmt == "png" else "figure"
        )
    return path


def save_all(figure: Figure, out_dir: Path, name: str, formats: Sequence[str]) -> list[Path]:
    """Save a figure as ``<name>.<format>`` for each format into ``out_dir``, then close it."""
    try:
        return [save(figure, out_dir / f"{name}.{fmt}", fmt) for fmt in formats]
    finally:
        close(figure)


def close(figure: Figure) -> None:
    """Release a figure's memory."""
    plt.close(figure)

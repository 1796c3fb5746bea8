"""Charts: each takes tables and returns a matplotlib figure, or writes PNG and SVG files.

- :mod:`sim.charts.run`: one run's outcomes per summit and the balancing index.
- :mod:`sim.charts.batch`: a batch's envelopes, compositions, paired differences and more.
- :mod:`sim.charts.sensitivity`: sensitivity indices and effects per sample point.
- :mod:`sim.charts.discover`: scenario discovery's trade-off of coverage against density.
- :mod:`sim.charts.style`: what they share: the colours, the PNG/SVG saver, the column check.

Import the module you need; this package itself loads nothing heavy.
"""

__all__ = ["batch", "discover", "run", "sensitivity", "style"]

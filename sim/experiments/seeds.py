"""Seeds of an experiment's runs, derived from its one base seed with ``numpy.random.SeedSequence``.

One child per replication, shared by every arm and sweep point (common random numbers); with
draws (a ``[posterior]`` or ``[perturb_weights]`` table), one child per draw and its children per
replication, so that every draw has seeds of its own (docs/experiments.md, sections 3 and 12).
"""

from __future__ import annotations

import numpy as np


def derive_seeds(base_seed: int, replications: int) -> list[int]:
    """Return one seed per replication from ``SeedSequence(base_seed).spawn``.

    The seeds are distinct 63-bit integers; the same base seed always gives the
    same list, and a longer list starts with the shorter one.
    """
    seeds = [_seed(child) for child in np.random.SeedSequence(base_seed).spawn(replications)]
    if len(set(seeds)) != len(seeds):  # astronomically unlikely; never silently repeat a seed
        raise ValueError("seed derivation produced a repeated seed; choose another base_seed")
    return seeds


def derive_draw_seeds(base_seed: int, draws: int, replications: int) -> list[list[int]]:
    """Return ``replications`` seeds for each of ``draws`` posterior draws: ``SeedSequence`` grandchildren.

    Draw ``k`` takes the children of ``SeedSequence(base_seed).spawn(draws)[k]``, so every draw
    has seeds of its own (the seed noise of one draw is independent of another's, and the
    per-draw means that :mod:`sim.analysis.compare` tests are independent), while every arm and
    sweep point shares them (common random numbers). More draws or more replications keep the
    earlier seeds. All seeds are distinct.
    """
    seeds = [
        [_seed(grandchild) for grandchild in child.spawn(replications)]
        for child in np.random.SeedSequence(base_seed).spawn(draws)
    ]
    flat = [seed for row in seeds for seed in row]
    if len(set(flat)) != len(flat):  # astronomically unlikely; never silently repeat a seed
        raise ValueError("seed derivation produced a repeated seed; choose another base_seed")
    return seeds


def _seed(sequence: np.random.SeedSequence) -> int:
    """A distinct 63-bit integer from a seed sequence (the one rule of every derived seed)."""
    low, high = (int(word) for word in sequence.generate_state(2, dtype=np.uint32))
    return (low | (high << 32)) >> 1

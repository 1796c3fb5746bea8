"""Balancing: the index and the alignment update."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import SCOModel, balancing
from sim.scenario import load_scenario


@pytest.fixture
def model(tiny_path):
    return SCOModel(load_scenario(tiny_path), rng=0)


def test_index_is_one_when_equidistant_and_poles_weigh_the_same(model):
    model.alignment[:] = 0.6
    model.capability[:] = 1.0
    model.influence_gain[:] = 0.0
    # equal capability and equal alignment for everyone -> equal pole weights
    np.testing.assert_allclose(balancing.pole_shares(model), [0.5, 0.5])
    assert balancing.balancing_index(model)[model.focal] == pytest.approx(1.0)


def test_index_is_zero_without_one_pole(model):
    from sim.model.membership import set_status

    set_status(model, model.index["RUS"], 0, 2000)  # Russia outside the organisation
    assert balancing.pole_weights(model)[model.poles.index("RUS")] == 0
    assert balancing.balancing_index(model)[model.focal] == 0.0


def test_index_falls_when_the_state_leans_to_one_side(model):
    model.alignment[model.focal] = [0.7, 0.7]
    even = balancing.balancing_index(model)[model.focal]
    model.alignment[model.focal] = [0.9, 0.3]
    assert balancing.balancing_index(model)[model.focal] < even


def test_balancer_moves_away_from_the_rising_threatening_pole(model):
    k = model.focal
    rus, chn = model.poles.index("RUS"), model.poles.index("CHN")
    model.threat[k] = [0.0, 0.8]  # fears China
    before = model.alignment[k].copy()
    model.baseline_alignment = model.alignment.copy()
    balancing.update_alignment(model)
    after = model.alignment[k]
    assert after[chn] < before[chn]
    assert after[rus] > before[rus]


def test_bandwagoner_moves_towards_the_threatening_pole(model):
    k = model.focal
    chn = model.poles.index("CHN")
    model.weights[k] = [0.1, 0.1, 0.0, 0.8]  # regime security dominates, no balancing
    model.regime_stake[k] = 1.0
    model.threat[k] = [0.0, 0.8]
    before = model.alignment[k, chn]
    balancing.update_alignment(model)
    assert model.alignment[k, chn] > before


def test_poles_do_not_move(model):
    before = model.alignment[model.pole_index].copy()
    model.threat[:] = 0.9
    balancing.update_alignment(model)
    np.testing.assert_array_equal(model.alignment[model.pole_index], before)

"""Agenda items: one item (:class:`Item`) as it travels between years, and a year's :class:`Agenda`.

An :class:`Item` is what is known of an item before positions are drawn: its area,
who tables it, its title and ambition, and where it came from. Deferred items are
carried to next year and blocked ones kept for retabling as items, so the agenda,
the model and membership share one typed record instead of dictionaries.

This module imports nothing of :mod:`sim.model`: every other part of the model may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class Item:
    """One item before it is decided.

    Attributes:
        area: The item's issue area (index into the model's areas).
        initiator: The state that tables it (index), or None until one is drawn.
        title: Title shown in the decision log.
        ambition: The text's ambition (0-100), or None until the initiator sets it.
        beneficiary: The pole the item favours (index), or None for the area's default.
        positions: Positions set by a scenario event (state index -> 0-100), overriding the formula.
        saliences: Saliences set by a scenario event (state index -> 0-1).
        origin: Where the item came from this year: event, deferred, retabled or agenda.
        deferrals: How many times it was deferred so far.
        carried_as: The origin it takes when carried to next year (None: "deferred").
        beneficiary_state: The state the item benefits (index), or None for the pole's state.
        sovereignty: Whether the text touches territorial integrity (every member's stake in it counts).

    """

    area: int
    initiator: int | None
    title: str
    ambition: float | None
    beneficiary: int | None
    positions: dict[int, float]
    saliences: dict[int, float]
    origin: str
    deferrals: int = 0
    carried_as: str | None = None
    beneficiary_state: int | None = None
    sovereignty: bool = False

    def copy(self) -> Item:
        """Return a copy (the dicts of set positions and saliences are shared: nothing changes them)."""
        # Positional construction: a few times cheaper than dataclasses.replace.
        return Item(
            self.area,
            self.initiator,
            self.title,
            self.ambition,
            self.beneficiary,
            self.positions,
            self.saliences,
            self.origin,
            self.deferrals,
            self.carried_as,
            self.beneficiary_state,
            self.sovereignty,
        )

    def tabled_as(self, origin: str) -> Item:
        """Return a copy tabled this year with ``origin``."""
        item = self.copy()
        item.origin = origin
        return item

    def carried(self, carried_as: str, deferrals: int | None = None) -> Item:
        """Return a copy carried to next year as ``carried_as`` (with ``deferrals`` if given)."""
        item = self.copy()
        item.carried_as = carried_as
        if deferrals is not None:
            item.deferrals = deferrals
        return item


@dataclass
class Agenda:
    """Items on the agenda in one year, as arrays over items (rows) and states (columns).

    ``policy_items`` holds the policy items (:class:`Item`) behind the rows; ``groups`` the
    states each enlargement row would move up the accession ladder. ``costs`` holds each
    state's participation cost by part (items x states x 3, :mod:`sim.model.participation`),
    ``project`` whether members may stand aside, ``beneficiary_state`` the state each item
    benefits (-1: none).
    """

    area: np.ndarray
    initiator: np.ndarray
    beneficiary: np.ndarray
    status_quo: np.ndarray
    proposal: np.ndarray
    positions: np.ndarray
    saliences: np.ndarray
    titles: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    policy_items: list[Item] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)
    costs: np.ndarray | None = None
    project: np.ndarray | None = None
    beneficiary_state: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.area)

    @classmethod
    def empty(cls, n_states: int) -> Agenda:
        """Return an agenda with no items."""
        return cls(
            area=np.zeros(0, dtype=int),
            initiator=np.zeros(0, dtype=int),
            beneficiary=np.zeros(0, dtype=int),
            status_quo=np.zeros(0),
            proposal=np.zeros(0),
            positions=np.zeros((0, n_states)),
            saliences=np.zeros((0, n_states)),
        )

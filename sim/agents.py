"""Customers as Mesa agents: views over the arrays, for markets small enough to draw.

The engine never steps these agents (the monthly phases work on whole arrays); they exist
so that Mesa's tools (AgentSet queries, SolaraViz network drawing) see people on a
`mesa.discrete_space.Network`. Every attribute reads the person's row of the arrays.
"""

from __future__ import annotations

from mesa.discrete_space import FixedAgent

from .customers import MOODS, NO_FIRM


class Customer(FixedAgent):
    def __init__(self, model, person: int, cell):
        super().__init__(model)
        self.person = person
        self.cell = cell

    @property
    def firm(self) -> str | None:
        k = int(self.model.customers.firm[self.person])
        return None if k == NO_FIRM else self.model.firms[k].name

    @property
    def mood(self) -> str:
        if self.firm is None:
            return "prospect"
        return MOODS[int(self.model.customers.mood(self.model.parameters)[self.person])]

    @property
    def satisfaction(self) -> float:
        return float(self.model.customers.satisfaction[self.person])

    @property
    def loyalty(self) -> float:
        return float(self.model.customers.loyalty[self.person])

    @property
    def tenure(self) -> int:
        return int(self.model.customers.tenure[self.person])

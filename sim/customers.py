"""The people of a market as arrays, one per attribute (Covasim's `People`).

Person i is row i of every array. A person is a customer of at most one firm (`firm[i]` is
the firm's index) or a prospect (`firm[i] == NO_FIRM`). Rules are array expressions over
masks or index arrays; nothing here loops over people.

The arrays below are the engine's. Policies declare their own (`sim.policies.State`); the
market adds them with `add_state`, and `join` and `leave` reset them as declared.
"""

from __future__ import annotations

import numpy as np

from . import compiled

from .codes import (  # noqa: F401  (the codes are read from here across sim/)
    ADVERTISING, CAUSES, CHANNELS, CONTACT, FAILURE, INITIAL, MOODS, NEVER, NO_CAUSE, NO_FIRM, PRICE, QUALITY,
    REFERRAL, WIN_BACK,
)


class Customers:
    """State arrays. Attributes are documented where they are declared."""

    def __init__(self, n: int, n_firms: int, states=()):
        self.n, self.n_firms = n, n_firms
        # relationship with a firm
        self.firm = np.full(n, NO_FIRM, np.int16)  # current firm, or NO_FIRM for a prospect
        self.tenure = np.zeros(n, np.int32)  # months with the current firm
        self.contract_end = np.full(n, NEVER, np.int32)  # month the contract ends; NEVER: no contract
        self.channel = np.zeros(n, np.int8)  # how they joined the current firm (CHANNELS)
        self.initial_firm = np.full(n, NO_FIRM, np.int16)  # firm at month 0 while never left: retention cohort
        self.poorly_served = np.zeros(n, bool)  # the service fails them every month (a defect, a bad area)
        # how they feel
        self.temperament = np.zeros(n)  # the satisfaction at which met expectations settle
        self.expectation = np.zeros(n)  # the quality they expect (0-1)
        self.satisfaction = np.zeros(n)  # 0-1
        self.loyalty = np.zeros(n)  # 0-1: renews, refers, defends, forgives; not the same as satisfaction
        self.attitude = np.zeros((n, n_firms))  # -1..1 toward each firm, from what they hear
        # decaying count of contacts who recently left each firm: only defections from one's own
        # firm weigh (Nitzan & Libai 2011 observe one firm's customers leaving it)
        self.peer_defections = np.zeros((n, n_firms))
        self.grievance = np.zeros(n)  # slowly fading memory of unresolved problems (TARP repurchase gap)
        self.failures = np.zeros(n, np.int16)  # service failures with the current firm
        # history, for win-back
        self.last_firm = np.full(n, NO_FIRM, np.int16)  # the firm they last left
        self.left_month = np.full(n, NEVER, np.int32)
        self.loyalty_when_left = np.zeros(n)
        # this month's events (reset each month)
        self.satisfaction_before = np.zeros(n)  # satisfaction when the month began
        self.experience = np.zeros(n)  # the service this month (quality units)
        self.surprise = np.zeros(n)  # delight beyond the service this month (a gift), in quality units
        self.price_rise = np.zeros(n)  # rise of the price paid this month, a share of the list price (a discount ended)
        self.failed = np.zeros(n, bool)
        self.complained = np.zeros(n, bool)
        self.resolved = np.zeros(n, bool)  # their complaint was resolved this month
        self.talks_negative = np.zeros(n, bool)  # will tell peers about a bad experience this month
        self.talk_cause = np.full(n, NO_CAUSE, np.int8)  # what made them newly dissatisfied this month (CAUSES)
        self.last_referral = np.full(n, NEVER, np.int32)  # the last month they recommended their firm (since joining)
        # the policies' own (sim.policies.State), in the order added
        self.states: tuple = ()
        for state in states:
            self.add_state(state)

    def add_state(self, state) -> None:
        """A policy's per-person array, as attribute `state.name`, everyone at `state.initial`."""
        if hasattr(self, state.name):
            raise ValueError(f"state {state.name!r} is not allowed: customers already have an attribute of "
                             f"that name; give the policy's state another name")
        setattr(self, state.name, np.full(self.n, state.initial, state.dtype))
        self.states += (state,)

    def start_month(self) -> None:
        self.failed[:] = False
        self.surprise[:] = 0.0
        self.price_rise[:] = 0.0
        self.complained[:] = False
        self.resolved[:] = False
        self.talks_negative[:] = False
        self.talk_cause[:] = NO_CAUSE

    @property
    def is_customer(self) -> np.ndarray:
        return self.firm != NO_FIRM

    def members(self) -> np.ndarray:
        """The customers' rows, in order: np.flatnonzero(is_customer) (compiled: every phase asks)."""
        fast = compiled.kernels()
        return fast.members_of(self.firm) if fast is not None else np.flatnonzero(self.is_customer)

    def mood(self, parameters, people: np.ndarray | None = None) -> np.ndarray:
        """Mood codes 0..3 (MOODS) for everyone (or for `people`); meaningful for customers."""
        p = parameters
        bins = np.array([p.dissatisfied_below, p.satisfied_above, p.delighted_above])
        satisfaction = self.satisfaction if people is None else self.satisfaction[people]
        return np.searchsorted(bins, satisfaction, side="right").astype(np.int8)

    def join(self, people: np.ndarray, firm: np.ndarray, channel, month: int, market) -> None:
        """People start a relationship with `firm` (array or scalar) this month."""
        p = market.parameters
        referred = min(max(0.5 * p.initial_loyalty_mean + p.referred_loyalty_bonus, 0.0), 1.0)
        usual = min(max(0.5 * p.initial_loyalty_mean, 0.0), 1.0)
        fast = compiled.kernels()
        if fast is not None:  # the same arrays in one compiled pass
            people = np.asarray(people, np.int64)
            fast.join(people, _per_person(firm, people.size), _per_person(channel, people.size), month,
                      market.firm_quality, market.firm_contract_months, referred, usual,
                      self.firm, self.tenure, self.channel, self.contract_end, self.expectation, self.satisfaction,
                      self.temperament, self.loyalty, self.failures, self.grievance, self.last_referral)
            self.reset_states(people, "on_join")
            return
        quality = market.firm_quality[firm]
        self.firm[people] = firm
        self.tenure[people] = 0
        self.channel[people] = channel
        months = market.firm_contract_months[firm]
        self.contract_end[people] = np.where(months > 0, month + months, NEVER)
        # new customers expect what the firm is known for, and start from their own temperament
        self.expectation[people] = quality
        self.satisfaction[people] = self.temperament[people]
        self.loyalty[people] = np.where(np.asarray(channel) == REFERRAL, referred, usual)
        self.failures[people] = 0
        self.grievance[people] = 0.0
        self.last_referral[people] = NEVER
        self.reset_states(people, "on_join")

    def leave(self, people: np.ndarray, month: int) -> None:
        """People end their relationship with their firm this month."""
        self.last_firm[people] = self.firm[people]
        self.left_month[people] = month
        self.loyalty_when_left[people] = self.loyalty[people]
        self.firm[people] = NO_FIRM
        self.initial_firm[people] = NO_FIRM
        self.contract_end[people] = NEVER
        self.tenure[people] = 0
        self.reset_states(people, "on_leave")

    def forget(self, people: np.ndarray) -> None:
        """Customers become prospects who never were anyone's customers (the landing at month 0,
        `sim.population`): no firm, no history to win back; what they heard stays theirs."""
        self.firm[people] = NO_FIRM
        self.initial_firm[people] = NO_FIRM
        self.last_firm[people] = NO_FIRM
        self.left_month[people] = NEVER
        self.contract_end[people] = NEVER
        self.tenure[people] = 0
        self.failures[people] = 0
        self.grievance[people] = 0.0
        self.last_referral[people] = NEVER
        self.reset_states(people, "on_leave")

    def take_relationship(self, people: np.ndarray, donors: np.ndarray) -> None:
        """Prospects become customers with the relationship of `donors` (customers, one each):
        firm, tenure, contract, channel, expectation, loyalty, grievance, failures, the policies'
        states, and satisfaction as far above or below their own temperament as the donor's.
        Used by the landing at month 0 (`sim.population`), so that the customers' states keep
        their distribution when the firm is brought to its stated size."""
        for name in ("firm", "tenure", "contract_end", "channel", "expectation", "loyalty", "grievance", "failures",
                     "last_referral", *(state.name for state in self.states)):
            array = getattr(self, name)
            array[people] = array[donors]
        offset = self.satisfaction[donors] - self.temperament[donors]
        self.satisfaction[people] = np.clip(self.temperament[people] + offset, 0.0, 1.0)
        self.last_firm[people] = NO_FIRM
        self.left_month[people] = NEVER

    def reset_states(self, people: np.ndarray, when: str) -> None:
        """The policies' states that reset `when` ("on_join", "on_leave") go back to their initial value."""
        for state in self.states:
            if getattr(state, when):
                getattr(self, state.name)[people] = state.initial

    def to_frame(self, market):
        """Every person's state as a pandas DataFrame (one row per person)."""
        import pandas as pd

        names = np.array([f.name for f in market.firms] + ["(prospect)"])
        frame = pd.DataFrame(
            {
                "firm": names[np.where(self.is_customer, self.firm, -1)],
                "mood": np.where(self.is_customer, np.array(MOODS)[self.mood(market.parameters)], "(prospect)"),
                "tenure": self.tenure,
                "contract_end": _months(self.contract_end),
                "channel": np.array(CHANNELS)[self.channel],
                "expectation": self.expectation,
                "satisfaction": self.satisfaction,
                "loyalty": self.loyalty,
                "failures": self.failures,
                "grievance": self.grievance,
                "poorly_served": self.poorly_served,
                "degree": market.network.degree,
            }
        )
        for state in self.states:  # the policies' own
            values = getattr(self, state.name)
            frame[state.name] = _months(values) if values.dtype == np.int32 else values
        for k, firm in enumerate(market.firms):
            frame[f"attitude[{firm.name}]"] = self.attitude[:, k]
        frame.index.name = "person"
        return frame


def _months(values: np.ndarray):
    """Months as a nullable column: NEVER ("not set") shown as missing."""
    import pandas as pd

    return pd.array(np.where(values == NEVER, None, values), "Int32")


def _per_person(value, size: int) -> np.ndarray:
    """`value` (one for all, or one per person) as an int64 array of `size`."""
    value = np.asarray(value, np.int64)
    return np.full(size, value) if value.ndim == 0 else value

"""The people of a market as arrays, one per attribute (Covasim's `People`).

Person i is row i of every array. A person is a customer of at most one firm (`firm[i]` is
the firm's index) or a prospect (`firm[i] == NO_FIRM`). Rules are array expressions over
masks or index arrays; nothing here loops over people.
"""

from __future__ import annotations

import numpy as np

NO_FIRM = -1

# Moods, derived from satisfaction (thresholds in MarketParameters)
DISSATISFIED, NEUTRAL, SATISFIED, DELIGHTED = 0, 1, 2, 3
MOODS = ("dissatisfied", "neutral", "satisfied", "delighted")

# How a customer came to their firm
INITIAL, ADVERTISING, REFERRAL, WIN_BACK = 0, 1, 2, 3
CHANNELS = ("initial", "advertising", "referral", "win_back")


class Customers:
    """State arrays. Attributes are documented where they are declared."""

    def __init__(self, n: int, n_firms: int):
        self.n, self.n_firms = n, n_firms
        # relationship with a firm
        self.firm = np.full(n, NO_FIRM, np.int16)  # current firm, or NO_FIRM for a prospect
        self.tenure = np.zeros(n, np.int32)  # months with the current firm
        self.contract_end = np.full(n, -1, np.int32)  # month the contract ends; -1: no contract
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
        self.recovered = np.zeros(n, bool)  # a complaint of theirs was recovered (the paradox happens once)
        self.gift_expectation = np.zeros(n)  # the gift they have come to expect from their firm
        # commercial terms
        self.discount = np.zeros(n)  # share of price taken off while month <= discount_until
        self.discount_until = np.full(n, -1, np.int32)
        self.upsold = np.zeros(n, bool)  # bought the upsell (pays price * (1 + uplift))
        self.upsell_uplift = np.zeros(n)
        self.annoyed_until = np.full(n, -1, np.int32)  # a contact raised their wish to leave until then
        self.annoyance = np.zeros(n)  # how much (hazard ratio - 1)
        # history, for win-back
        self.last_firm = np.full(n, NO_FIRM, np.int16)  # the firm they last left
        self.left_month = np.full(n, -1, np.int32)
        self.loyalty_when_left = np.zeros(n)
        # this month's events (reset each month)
        self.satisfaction_before = np.zeros(n)  # satisfaction when the month began
        self.experience = np.zeros(n)  # the service this month (quality units)
        self.surprise = np.zeros(n)  # delight beyond the service this month (a gift), in quality units
        self.failed = np.zeros(n, bool)
        self.complained = np.zeros(n, bool)
        self.resolved = np.zeros(n, bool)  # their complaint was resolved this month
        self.talks_negative = np.zeros(n, bool)  # will tell peers about a bad experience this month

    def start_month(self) -> None:
        self.failed[:] = False
        self.surprise[:] = 0.0
        self.complained[:] = False
        self.resolved[:] = False
        self.talks_negative[:] = False

    def of(self, firm: int) -> np.ndarray:
        """Indices of the customers of one firm."""
        return np.flatnonzero(self.firm == firm)

    @property
    def is_customer(self) -> np.ndarray:
        return self.firm != NO_FIRM

    def mood(self, parameters) -> np.ndarray:
        """Mood codes 0..3 (MOODS) for everyone; meaningful for customers."""
        p = parameters
        bins = np.array([p.dissatisfied_below, p.satisfied_above, p.delighted_above])
        return np.searchsorted(bins, self.satisfaction, side="right").astype(np.int8)

    def join(self, people: np.ndarray, firm: np.ndarray, channel, month: int, market) -> None:
        """People start a relationship with `firm` (array or scalar) this month."""
        p = market.parameters
        quality = market.firm_quality[firm]
        self.firm[people] = firm
        self.tenure[people] = 0
        self.channel[people] = channel
        months = market.firm_contract_months[firm]
        self.contract_end[people] = np.where(months > 0, month + months, -1)
        # new customers expect what the firm is known for, and start from their own temperament
        self.expectation[people] = quality
        self.satisfaction[people] = self.temperament[people]
        referred = np.asarray(channel) == REFERRAL
        self.loyalty[people] = np.clip(
            0.5 * p.initial_loyalty_mean + referred * p.referred_loyalty_bonus, 0, 1
        )
        self.failures[people] = 0
        self.grievance[people] = 0.0
        self.gift_expectation[people] = 0.0
        self.recovered[people] = False
        self.upsold[people] = False
        self.upsell_uplift[people] = 0.0
        self.discount_until[people] = -1  # offers are made after joining (win-back sets its own)
        self.annoyed_until[people] = -1

    def leave(self, people: np.ndarray, month: int) -> None:
        """People end their relationship with their firm this month."""
        self.last_firm[people] = self.firm[people]
        self.left_month[people] = month
        self.loyalty_when_left[people] = self.loyalty[people]
        self.firm[people] = NO_FIRM
        self.initial_firm[people] = NO_FIRM
        self.contract_end[people] = -1
        self.tenure[people] = 0
        self.upsold[people] = False
        self.discount_until[people] = -1
        self.annoyed_until[people] = -1

    def price_paid(self, market) -> np.ndarray:
        """What each person pays this month (0 for prospects), before discounts are costed."""
        paying = self.is_customer
        price = np.where(paying, market.firm_price[np.maximum(self.firm, 0)], 0.0)
        return price * (1.0 + self.upsold * self.upsell_uplift)

    def to_frame(self, market):
        """Every person's state as a pandas DataFrame (one row per person)."""
        import pandas as pd

        names = np.array([f.name for f in market.firms] + ["(prospect)"])
        frame = pd.DataFrame(
            {
                "firm": names[np.where(self.is_customer, self.firm, -1)],
                "mood": np.where(self.is_customer, np.array(MOODS)[self.mood(market.parameters)], "(prospect)"),
                "tenure": self.tenure,
                "contract_end": self.contract_end,
                "channel": np.array(CHANNELS)[self.channel],
                "expectation": self.expectation,
                "satisfaction": self.satisfaction,
                "loyalty": self.loyalty,
                "failures": self.failures,
                "grievance": self.grievance,
                "poorly_served": self.poorly_served,
                "upsold": self.upsold,
                "degree": market.network.degree,
            }
        )
        for k, firm in enumerate(market.firms):
            frame[f"attitude[{firm.name}]"] = self.attitude[:, k]
        frame.index.name = "person"
        return frame

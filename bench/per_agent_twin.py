"""The engine's rules written the Mesa-tutorial way: one agent per person, stepping itself.

This is the executable specification of a month (sim/phases/*.py), kept small and
readable, for a single firm with no policy or with ServiceRecovery. Every person is a
`Person(mesa.Agent)` with its own attributes and a list of its contacts; each phase is a
method that the model calls on every agent (`self.agents.shuffle_do(...)`), and every
random decision is one draw from the model's Python `random.Random` (`self.random`).
It does not reproduce the engine's keyed random numbers, only its rules: the two agree on
outcomes within sampling noise, and is far slower (both measured by bench/bench_engine.py).

    from bench.per_agent_twin import TwinMarket     # from the repository root
    twin = TwinMarket(seed=1, n_people=10_000).run()
    twin.customers(), twin.retained(), twin.messages_negative_total

Parameters come from `sim.parameters.MarketParameters` (by name, never copied), the firm
from `sim.Firm`, the network from the engine's own builder `sim.network.build`.
"""

from __future__ import annotations

import math
from typing import Any

import mesa

from sim import Firm, ServiceRecovery
from sim.customers import NEVER
from sim.network import build as build_network
from sim.parameters import make_parameters

NO_FIRM, FIRM = -1, 0  # one firm, index 0
INITIAL, ADVERTISING, REFERRAL = 0, 1, 2


def clip(x: float, low: float, high: float) -> float:
    return low if x < low else high if x > high else x


class Person(mesa.Agent):
    """One person: a customer of the firm or a prospect, with a list of (contact, strong tie)."""

    def __init__(self, model: TwinMarket, temperament: float):
        super().__init__(model)
        self.contacts: list[tuple[Person, bool]] = []
        self.temperament = temperament
        self.satisfaction = temperament
        self.firm = NO_FIRM
        self.initial_firm = NO_FIRM
        self.tenure = 0
        self.contract_end = NEVER  # no contract
        self.channel = INITIAL
        self.expectation = 0.0
        self.loyalty = 0.0
        self.attitude = 0.0
        self.grievance = 0.0
        self.peer_defections = 0.0
        self.failures = 0
        self.recovered = False
        self.left_month = NEVER  # never left
        # this month
        self.satisfaction_before = 0.0
        self.failed = self.complained = self.resolved = self.talks_negative = False
        self.heard_negative = self.heard_positive = 0.0
        self.referral_signal = 0.0  # referrals heard, in units of "all my contacts advocate"

    @property
    def is_customer(self) -> bool:
        return self.firm != NO_FIRM

    # --- joining and leaving (sim/customers.py: join, leave) -------------------------
    def join(self, channel: int) -> None:
        m, p = self.model, self.model.p
        self.firm = FIRM
        self.tenure = 0
        self.channel = channel
        self.contract_end = m.month + m.contract_months if m.contract_months > 0 else NEVER
        self.expectation = m.firm.quality
        self.satisfaction = self.temperament
        self.loyalty = clip(0.5 * p.initial_loyalty_mean + (channel == REFERRAL) * p.referred_loyalty_bonus, 0, 1)
        self.failures = 0
        self.grievance = 0.0
        self.recovered = False

    def leave(self) -> None:
        self.left_month = self.model.month
        self.firm = NO_FIRM
        self.initial_firm = NO_FIRM
        self.contract_end = NEVER
        self.tenure = 0

    # --- phase 1: experience ------------------------------------------------------------
    def experience(self) -> None:
        m, p = self.model, self.model.p
        self.failed = self.complained = self.resolved = self.talks_negative = False
        self.grievance *= p.grievance_memory  # everyone's grievance fades (order-free: unused here)
        if not self.is_customer:
            return
        self.tenure += 1
        self.satisfaction_before = self.satisfaction
        quality = m.firm.quality + p.quality_noise * self.random.gauss(0.0, 1.0)
        self.failed = self.random.random() < m.firm.failure_rate
        self.failures += self.failed
        experience = quality - p.failure_severity * self.failed
        gap = experience - self.expectation
        felt = gap if gap >= 0 else p.loss_aversion * gap
        if self.failed:
            felt *= 1.0 - p.forgiveness * self.loyalty
        performance = p.performance_weight * (experience - p.quality_norm)  # quality counts in itself
        target = clip(self.temperament + p.disconfirmation_sensitivity * felt + performance, 0.0, 1.0)
        self.satisfaction = p.satisfaction_memory * self.satisfaction + (1 - p.satisfaction_memory) * target
        self.expectation += p.expectation_adaptation * (experience - self.expectation)
        pleased = clip((self.satisfaction - p.satisfied_above) / (1 - p.satisfied_above + 1e-12), 0, 1)
        unhappy = clip((p.dissatisfied_below - self.satisfaction) / (p.dissatisfied_below + 1e-12), 0, 1)
        self.loyalty = clip(self.loyalty + p.loyalty_growth * pleased - p.loyalty_erosion * unhappy, 0, 1)

    # --- phase 2: complaints and the firm's answer ---------------------------------------
    def complain(self) -> None:
        m, p = self.model, self.model.p
        if not self.is_customer:
            return
        now_unhappy = self.satisfaction < p.dissatisfied_below
        if now_unhappy and self.satisfaction_before >= p.dissatisfied_below:
            self.talks_negative = self.random.random() < p.negative_talk_probability
        if self.failed and now_unhappy and self.random.random() < p.complaint_probability:
            self.complained = True
            m.count("complaints")
            if m.recovery is not None and m.policies_on:
                self.get_recovery(m.recovery)
        if self.failed and not self.resolved:
            damage = 1.0 - p.forgiveness * self.loyalty
            self.grievance += damage * (p.complaint_venting if self.complained else 1.0)

    def get_recovery(self, policy: ServiceRecovery) -> None:
        """sim/policies/recovery.py: ServiceRecovery.on_complaints, for one complainer."""
        m = self.model
        m.cost += policy.effort * policy.cost_at_full_effort * m.price
        chance = policy.success_at_no_effort + (policy.success_at_full_effort - policy.success_at_no_effort) * policy.effort
        if self.random.random() < chance:
            first_failure = self.failures <= 1 and not self.recovered
            self.satisfaction = min(1.0, max(self.satisfaction, self.satisfaction_before) + policy.paradox * first_failure)
            self.loyalty = min(1.0, self.loyalty + policy.loyalty_gain)
            self.recovered = self.resolved = True
            self.talks_negative = False
        else:
            self.satisfaction = max(0.0, self.satisfaction - policy.double_deviation)
            self.loyalty = max(0.0, self.loyalty - policy.double_deviation / 2)
            self.talks_negative = True

    # --- phase 3: word of mouth (talk to contacts, then everyone listens) -------------------
    def tie_weight(self, strong: bool) -> float:
        return self.model.p.strong_tie_weight if strong else self.model.p.weak_tie_weight

    def talk(self) -> None:
        m, p = self.model, self.model.p
        if not self.is_customer:
            return
        if self.talks_negative:
            reach = self.random.randint(p.negative_reach_min, p.negative_reach_max)
            for listener, strong in self.random.sample(self.contacts, min(reach, len(self.contacts))):
                # defended: the listener knows a loyal customer of the firm other than the talker
                defended = any(c is not self and c.firm == self.firm and c.loyalty >= p.loyal_above
                               for c, _ in listener.contacts)
                listener.heard_negative += self.tie_weight(strong) * (1.0 - p.defence_damping * defended)
                m.count("messages_negative")
                m.count("messages_defended", defended)
        advocate = self.satisfaction >= p.delighted_above or self.loyalty >= p.loyal_above
        if advocate and self.random.random() < p.referral_probability:
            for listener, strong in self.random.sample(self.contacts, min(p.referral_reach, len(self.contacts))):
                listener.heard_positive += self.tie_weight(strong)
                m.count("messages_positive")

    def listen(self) -> None:
        p = self.model.p
        self.attitude *= p.attitude_memory
        self.attitude += p.positive_message_weight * self.heard_positive - p.negative_message_weight * self.heard_negative
        self.attitude = clip(self.attitude, -1.0, 1.0)
        self.referral_signal = self.heard_positive / (p.referral_probability * p.referral_reach or 1.0)
        self.heard_positive = self.heard_negative = 0.0

    # --- phase 4: churn and renewal -------------------------------------------------------
    def lasting_hazard(self) -> float:
        """The hazard the customer's lasting state implies (sim/phases/churn.py: state_hazard)."""
        p = self.model.p
        z = (
            p.churn_satisfaction * (p.temperament_mean - self.satisfaction)
            - p.churn_loyalty * (self.loyalty - p.initial_loyalty_mean)
            + p.churn_grievance * self.grievance
            - p.churn_attitude * self.attitude
            # one firm: no rival to prefer (best rival attitude 0) and its price is the mean price
        )
        return min(1.0, p.base_churn * math.exp(z))

    def passing_pressure(self) -> float:
        """This month's multiplier from contacts who just defected (no policy here annoys anyone)."""
        p = self.model.p
        weaker_if_loyal = (1.0 - self.loyalty) / max(1.0 - self.model.mean_loyalty, 1e-9)
        return 1.0 + p.peer_defection_effect * self.peer_defections * weaker_if_loyal

    def decide_to_stay(self) -> None:
        if self.is_customer:
            self.renew_or_leave()
        # defections among contacts fade; this month's are added once everyone has decided,
        # so they are felt in full at next month's decisions
        self.peer_defections *= self.model.p.peer_defection_memory

    def renew_or_leave(self) -> None:
        m, p = self.model, self.model.p
        lasting, passing = self.lasting_hazard(), self.passing_pressure()
        if self.contract_end == m.month:  # the contract's lasting hazard plus one month of passing pressure
            reason = "renewal"
            chance = 1.0 - (1.0 - lasting) ** max(m.contract_months, 1) * (1.0 - min(1.0, lasting * (passing - 1.0)))
        elif self.contract_end > m.month:
            reason = "contract_break"
            chance = p.contract_break_probability * (self.satisfaction < p.contract_break_below)
        else:
            reason, chance = "no_contract", min(1.0, lasting * passing)
        if self.random.random() < chance:
            if reason == "contract_break":
                m.revenue += min(self.contract_end - m.month, p.contract_break_penalty_months) * m.price
            m.count(f"churned_{reason}")
            self.leave()  # one firm: every leaver leaves the category
            m.leavers.append(self)
        elif reason == "renewal":
            self.contract_end += m.contract_months

    # --- phase 5: acquisition (Bass hazard on the network) ----------------------------------
    def consider_joining(self) -> None:
        m, p = self.model, self.model.p
        if self.is_customer or self.left_month == m.month:
            return
        imitation = p.imitation * self.referral_signal
        held_back = math.exp(p.attitude_on_joining * min(self.attitude, 0.0))
        if self.random.random() < clip((m.firm.advertising + imitation) * held_back, 0.0, 1.0):
            by_referral = self.random.random() < imitation / (imitation + m.firm.advertising + 1e-12)
            self.join(REFERRAL if by_referral else ADVERTISING)
            m.count("acquired_referral" if by_referral else "acquired_advertising")


class TwinMarket(mesa.Model):
    """One firm, `n_people` Person agents on the engine's kind of network; one step is one month."""

    def __init__(self, firm: Firm | None = None, *, seed: int | None = None, recovery: ServiceRecovery | None = None,
                 **parameters: Any):
        super().__init__(rng=seed)  # Mesa 3.5 warns about seed=; an int seeds both generators alike
        self.p = p = make_parameters(**parameters)
        self.firm = firm or Firm()
        if any(not isinstance(policy, ServiceRecovery) for policy in self.firm.policies):
            raise ValueError("the twin knows only ServiceRecovery")
        self.recovery = recovery or next(iter(self.firm.policies), None)
        self.price = self.firm.price or p.price
        self.contract_months = p.contract_months if self.firm.contract_months is None else self.firm.contract_months
        self.month = -p.warm_up_months  # as Market.month: 0 when the books open, negative in the warm-up
        network = build_network(p, self.rng)
        if network.complete:
            raise ValueError("the twin needs a network with ties (not 'complete')")

        people = [Person(self, clip(self.random.gauss(p.temperament_mean, p.temperament_spread), 0.0, 1.0))
                  for _ in range(network.n)]
        for i, person in enumerate(people):
            lo, hi = network.indptr[i], network.indptr[i + 1]
            person.contacts = [(people[j], bool(s)) for j, s in zip(network.indices[lo:hi], network.strong[lo:hi])]
        mean = p.initial_loyalty_mean
        for person in people:  # the initial customers (Market._initial_customers)
            if self.random.random() < p.initial_customer_share:
                person.join(INITIAL)
                person.initial_firm = FIRM
                months = self.contract_months
                person.contract_end = self.month + 1 + int(self.random.random() * max(months, 1)) if months > 0 else NEVER
                person.tenure = self.random.randint(0, 35)
                person.loyalty = (self.random.betavariate(2.0 * mean / (1 - mean + 1e-9) + 1e-9, 2.0)
                                  if 0 < mean < 1 else mean)
        self.policies_on = False
        for _ in range(p.warm_up_months):  # the status quo, without policies, until the state settles
            self.advance()
        self.policies_on = True
        for person in self.agents:  # month 0: the retention cohort and the books start here
            person.initial_firm = person.firm
        self.initial_customers = self.customers()
        self.npv = 0.0
        self.messages_negative_total = 0.0
        self.counts = {}
        self.datacollector = mesa.DataCollector(model_reporters={
            "customers": TwinMarket.customers,
            "retained": TwinMarket.retained,
            "messages_negative": lambda m: m.counts.get("messages_negative", 0.0),
        })
        self.datacollector.collect(self)

    def count(self, event: str, n: float = 1.0) -> None:
        self.counts[event] = self.counts.get(event, 0.0) + n

    def customers(self) -> int:
        return sum(1 for person in self.agents if person.is_customer)

    def retained(self) -> float:
        return sum(1 for person in self.agents if person.initial_firm == FIRM) / max(self.initial_customers, 1)

    def advance(self) -> None:
        """One month of rules, in the engine's phase order."""
        self.month += 1
        self.counts, self.revenue, self.cost, self.leavers = {}, 0.0, 0.0, []
        self.agents.shuffle_do("experience")  # 1
        self.agents.shuffle_do("complain")  # 2 (and the firm's answer)
        self.agents.shuffle_do("talk")  # 3 word of mouth...
        self.agents.do("listen")  # ...heard by everyone at once
        loyalties = [person.loyalty for person in self.agents if person.is_customer]
        self.mean_loyalty = sum(loyalties) / max(len(loyalties), 1)
        self.agents.shuffle_do("decide_to_stay")  # 4 churn and renewal
        for leaver in self.leavers:  # a defecting contact weighs in full next month
            for contact, _ in leaver.contacts:
                contact.peer_defections += 1.0
        self.agents.shuffle_do("consider_joining")  # 5 acquisition
        members = self.customers()  # 6 accounting
        self.revenue += members * self.price
        self.cost += members * self.p.unit_cost_share * self.price

    def step(self) -> None:
        self.advance()
        self.npv += (self.revenue - self.cost) / (1.0 + self.p.discount_rate) ** (self.month / 12)
        self.messages_negative_total += self.counts.get("messages_negative", 0.0)
        self.datacollector.collect(self)
        if self.month >= self.p.months:
            self.running = False

    def run(self) -> TwinMarket:
        while self.month < self.p.months:
            self.step()
        return self


if __name__ == "__main__":
    import time

    start = time.perf_counter()
    twin = TwinMarket(seed=1, n_people=10_000).run()
    print(f"{time.perf_counter() - start:.1f} s: customers {twin.customers()}, retained {twin.retained():.3f}, "
          f"negative messages {twin.messages_negative_total:.0f}")

"""The codes in the people's arrays: no firm, no month, moods, channels of joining, causes of
dissatisfaction, reasons to decide about leaving. Apart from `sim.customers` so that the
compiled kernels (`sim.kernels`), which the customers' arrays call, can read them without
importing the arrays' module back."""

from __future__ import annotations

NO_FIRM = -1
# A month long before any month of a run: "no contract", "never left", "no discount". Months
# are negative during the warm-up, so -1 cannot mean "not set"; this one is far enough away
# that its difference with any month still fits in an int32.
NEVER = -(2**30)

# Moods, derived from satisfaction (thresholds in MarketParameters), codes 0..3
MOODS = ("dissatisfied", "neutral", "satisfied", "delighted")

# How a customer came to their firm
INITIAL, ADVERTISING, REFERRAL, WIN_BACK = 0, 1, 2, 3
CHANNELS = ("initial", "advertising", "referral", "win_back")

# What made a customer newly dissatisfied this month (`talk_cause`; NO_CAUSE: not newly dissatisfied):
# a service failure; the month's service below expectation without a failure; a rise of the price
# they pay (a discount that ended); a contact of the firm's (an upsell pushed on an unhappy customer)
FAILURE, QUALITY, PRICE, CONTACT = 0, 1, 2, 3
CAUSES = ("failure", "quality", "price", "contact")
NO_CAUSE = -1

# Why a customer decides this month whether to stay (`sim.phases.churn`): their contract ends now,
# they are under contract and may break it, or they have no contract
RENEWAL, CONTRACT_BREAK, NO_CONTRACT = 0, 1, 2
REASONS = ("renewal", "contract_break", "no_contract")

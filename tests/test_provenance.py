"""Every default says what it rests on (sim/provenance.py): the quality of its source and, for an
assumption that is not measured, a plausible range with its reason.

The labels below are written out by hand from the history of sim/parameters.py (see
docs/MODEL.md section 9), not read from the code: relabelling a default fails a test here.
"""

from __future__ import annotations

import pytest

from sim.firm import Firm
from sim.parameters import MarketParameters, provenance, uncertain
from sim.policies import Policy
from sim.provenance import QUALITIES, judgement, provenance as declare

ROWS = {row.path: row for row in provenance()}

# Adjusted by hand after seeing results (git log -p sim/parameters.py sim/firm.py).
TUNED = {
    "market.base_churn", "market.churn_grievance", "market.complaint_venting", "firm.failure_rate",
    "market.peer_defection_effect", "market.referral_probability",
}
# A published figure used as it is.
MEASURED = {"market.imitation", "market.loss_aversion", "firm.advertising", "ProactiveCheckIns.annoyance"}
# Named in issues 11, 12 and 19: no source, or a "calibrated" label with no target behind it.
JUDGEMENT = {
    "SmallGifts.surprise_per_price_share", "market.temperament_mean", "market.disconfirmation_sensitivity",
    "market.attitude_on_joining", "market.churn_loyalty", "market.relay_probability", "market.attitude_memory",
    "market.negative_reach_min", "market.negative_reach_max", "market.negative_talk_probability",
}
# What the user decides: placeholders, never varied.
DECISIONS = {
    "market.n_people", "market.months", "market.price", "market.contract_months", "firm.price",
    "SmallGifts.value_share", "ServiceRecovery.effort", "RetentionOffers.discount", "Upsell.target",
}


def test_every_default_of_market_firm_and_policies_declares_its_provenance():
    expected = {f"market.{name}" for name in MarketParameters.model_fields}
    expected |= {f"firm.{name}" for name in Firm.model_fields if name != "policies"}
    expected |= {f"{kind}.{name}" for kind, policy in Policy.registry.items() for name in policy.model_fields}
    assert set(ROWS) == expected


def test_the_tuned_and_measured_defaults_are_exactly_those_the_history_shows():
    assert {path for path, row in ROWS.items() if row.quality == "tuned"} == TUNED
    assert {path for path, row in ROWS.items() if row.quality == "measured"} == MEASURED
    assert not [path for path, row in ROWS.items() if row.quality == "calibrated"]  # no script sets a default


@pytest.mark.parametrize("path", sorted(JUDGEMENT))
def test_defaults_without_a_source_are_labelled_judgement(path):
    assert ROWS[path].quality == "judgement" and not ROWS[path].decision
    assert "calibrated" not in ROWS[path].source.lower()


@pytest.mark.parametrize("path", sorted(DECISIONS))
def test_the_users_decisions_are_marked_and_have_no_range(path):
    row = ROWS[path]
    assert row.decision and row.low is None and row.high is None and not row.varied


def test_every_assumption_that_is_not_measured_has_a_range_around_its_default_and_a_reason():
    for path, row in ROWS.items():
        assert row.quality in QUALITIES, path
        assert row.reason, f"{path} gives no reason"
        if row.decision or row.quality == "measured" or isinstance(row.default, str):
            continue  # a decision, a measured figure, or a family or shape (network, reach distribution)
        assert row.low is not None and row.low <= row.default <= row.high, f"{path}: [{row.low}, {row.high}]"


def test_tuned_defaults_say_so_and_name_what_measured_them():
    for path in TUNED:
        row = ROWS[path]
        assert row.reason.startswith("tuned by hand"), path
        assert row.script, path
        assert "calibrated" not in row.source.lower(), path


def test_uncertain_lists_the_varied_assumptions_for_a_robustness_pass():
    rows = {row.path: row for row in uncertain()}
    assert {"SmallGifts.surprise_per_price_share", "market.temperament_mean", "firm.failure_rate",
            "market.base_churn"} <= set(rows)
    assert not set(rows) & (DECISIONS | MEASURED)
    assert "market.strong_tie_weight" not in rows  # the unit of influence: not varied
    gifts = rows["SmallGifts.surprise_per_price_share"]
    assert (gifts.default, gifts.quality, gifts.low, gifts.high) == (4.0, "judgement", 1.0, 8.0)
    assert all(row.low < row.high and row.reason for row in rows.values())
    assert {row.path for row in uncertain(("tuned",))} == TUNED


def test_a_provenance_declaration_refuses_an_unknown_quality_or_a_reversed_range():
    with pytest.raises(ValueError, match="quality 'guess'"):
        declare("guess")
    with pytest.raises(ValueError, match="reversed"):
        judgement(0.5, 0.1, "why")
    with pytest.raises(ValueError, match="both ends"):
        declare("judgement", low=0.1)

"""Parameters: every bad value is refused with a message naming the parameter, the value and
what is allowed; good ones are accepted however they are spelled (flat, Firm, dict, string)."""

from __future__ import annotations

import re

import annotated_types
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.parameters import MarketParameters, make_parameters

from conftest import make_market


def bounds(field) -> dict[str, float]:
    found = {}
    for item in field.metadata:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(item, getattr(annotated_types, name.capitalize())):
                found[name] = getattr(item, name)
    return found


FIELDS = MarketParameters.model_fields

# The allowed values of every market parameter, written out here (not read from the code), so
# that removing, adding or loosening a bound in sim/parameters.py fails a test.
UNIT_INTERVAL = [  # shares, probabilities, weights and thresholds: [0, 1]
    "initial_customer_share", "rewiring", "between_community_share", "strong_tie_share", "quality_noise",
    "poorly_served_share", "failure_severity", "quality_norm", "expectation_adaptation", "temperament_mean",
    "forgiveness", "delighted_above", "satisfied_above", "dissatisfied_below", "loyal_above", "initial_loyalty_mean",
    "loyalty_growth", "loyalty_erosion", "complaint_probability", "complaint_venting", "relay_probability",
    "rejecter_attitude", "negative_talk_probability", "referral_probability", "positive_message_weight",
    "negative_message_weight", "defence_damping", "attitude_memory", "referred_loyalty_bonus", "imitation",
    "base_churn", "contract_break_below", "contract_break_probability", "discount_rate",
    "tolerance_zone", "quality_talk_share",
]
MEMORIES = ["satisfaction_memory", "grievance_memory", "peer_defection_memory"]  # [0, 1): 1 would never forget
NON_NEGATIVE = [  # sensitivities, weights and log-hazards without an upper bound
    "strong_tie_weight", "weak_tie_weight", "disconfirmation_sensitivity", "performance_weight",
    "attitude_on_joining", "churn_satisfaction", "churn_grievance", "churn_loyalty", "churn_attitude", "churn_price",
    "peer_defection_effect", "contract_break_penalty_months", "switching_propensity", "price_weight", "asked_weight",
]
WHOLE_NUMBERS = {  # name: (smallest, largest)
    "n_people": (2, 50_000_000), "months": (1, 1200), "warm_up_months": (0, 600), "mean_degree": (2, 1000),
    "community_size": (2, 100_000), "negative_reach_min": (0, 10_000), "negative_reach_max": (0, 10_000),
    "relay_reach": (1, 10_000), "referral_reach": (1, 10_000), "contract_months": (0, 120),
    "asked_contacts": (0, 1000),
}
EXPECTED_BOUNDS = {
    **{name: {"ge": 0, "le": 1} for name in UNIT_INTERVAL},
    **{name: {"ge": 0, "lt": 1} for name in MEMORIES},
    **{name: {"ge": 0} for name in NON_NEGATIVE},
    **{name: {"ge": low, "le": high} for name, (low, high) in WHOLE_NUMBERS.items()},
    "loss_aversion": {"ge": 1}, "temperament_spread": {"ge": 0, "le": 0.5}, "unit_cost_share": {"ge": 0, "le": 2},
    "price": {"gt": 0}, "agent_view_limit": {"ge": 0}, "penetration": {"gt": 0, "le": 1},
    "network": {}, "edge_list_path": {}, "negative_reach_distribution": {},  # choices and a path, checked below
}


def error_of(**settings) -> str:
    with pytest.raises(ValueError) as caught:
        sim.Market(seed=1, **{"n_people": 50, **settings})
    return str(caught.value)


def test_the_defaults_are_valid_and_every_parameter_has_a_unit_and_a_source():
    MarketParameters()  # validates its defaults
    for name, field in FIELDS.items():
        extra = field.json_schema_extra or {}
        assert extra.get("unit"), f"{name} has no unit"
        assert extra.get("source"), f"{name} has no source"


def test_parameters_are_frozen():
    parameters = make_parameters()
    with pytest.raises(ValueError):
        parameters.n_people = 5


def test_every_parameter_has_exactly_the_bounds_written_here():
    assert set(EXPECTED_BOUNDS) == set(FIELDS)
    for name, field in FIELDS.items():
        assert bounds(field) == EXPECTED_BOUNDS[name], name


@pytest.mark.parametrize("name", sorted(WHOLE_NUMBERS))
def test_a_size_below_its_smallest_is_refused_naming_parameter_value_and_bound(name):
    low = WHOLE_NUMBERS[name][0]
    message = error_of(**{name: low - 3})
    assert f"{name} = {low - 3}" in message
    assert f"greater than or equal to {low}" in message


@pytest.mark.parametrize("name", sorted(UNIT_INTERVAL))
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_a_share_outside_0_1_is_refused_naming_parameter_value_and_range(name, value):
    message = error_of(**{name: value})
    assert f"{name} = {value!r}" in message
    assert ("less than or equal to 1" in message) or ("greater than or equal to 0" in message)


@pytest.mark.parametrize("name", MEMORIES)
def test_a_memory_of_1_is_refused_it_would_never_forget(name):
    assert "less than 1" in error_of(**{name: 1.0})
    make_parameters(**{name: 0.99})


@pytest.mark.parametrize("name", NON_NEGATIVE)
def test_a_negative_sensitivity_is_refused(name):
    assert f"{name} = -0.5" in error_of(**{name: -0.5})


@given(
    name=st.sampled_from(UNIT_INTERVAL),
    value=st.one_of(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
                    st.floats(min_value=1 + 1e-9, allow_nan=False, allow_infinity=False)),
)
def test_any_value_outside_0_1_for_any_share_is_refused(name, value):
    with pytest.raises(ValueError, match=re.escape(name)):
        make_parameters(**{name: value})


def test_a_reversed_talk_range_is_refused_naming_both_ends():
    message = error_of(negative_reach_min=20, negative_reach_max=10)
    assert "negative_reach_min (20)" in message
    assert "negative_reach_max (10)" in message
    assert "<=" in message or "reversed" in message


def test_mood_thresholds_out_of_order_are_refused():
    message = error_of(dissatisfied_below=0.7, satisfied_above=0.5)
    assert "dissatisfied_below" in message and "satisfied_above" in message
    assert "0.7" in message and "0.5" in message


def test_an_unknown_policy_name_is_refused_listing_the_known_ones():
    message = error_of(policies=["ServiceRecovry"])
    assert "'ServiceRecovry'" in message
    for known in sim.Policy.registry:
        assert known in message


def test_an_unknown_policy_setting_is_refused_with_a_did_you_mean():
    message = error_of(policies=[{"kind": "Upsell", "targt": "everyone"}])
    assert "Upsell.targt" in message
    assert "did you mean 'target'" in message


def test_a_policy_setting_out_of_range_is_refused_naming_it():
    message = error_of(policies=["ServiceRecovery(effort=2)"])
    assert "ServiceRecovery.effort = 2" in message
    assert "less than or equal to 1" in message


def test_an_unknown_network_is_refused_listing_the_networks():
    message = error_of(network="ring")
    assert "network = 'ring'" in message
    for known in ("small_world", "scale_free", "communities", "complete", "edge_list"):
        assert known in message


def test_an_edge_list_network_without_a_file_is_refused():
    assert "edge_list_path" in error_of(network="edge_list")


def test_an_unknown_keyword_is_refused_with_a_did_you_mean():
    message = error_of(n_peple=100)
    assert "n_peple" in message
    assert "unknown parameter" in message
    assert "did you mean 'n_people'" in message


def test_an_unknown_keyword_far_from_any_name_is_still_refused():
    message = error_of(zzzzzz=1)
    assert "zzzzzz" in message and "unknown parameter" in message


def test_a_firm_setting_out_of_range_is_refused_naming_the_firm():
    message = error_of(firms=[{"name": "A"}, {"name": "B", "quality": 2}])
    assert "firms[1].quality = 2" in message


def test_a_flat_firm_setting_out_of_range_is_refused():
    assert "failure_rate = 1.5" in error_of(failure_rate=1.5)


def test_firms_need_distinct_names():
    assert "own name" in error_of(firms=[sim.Firm(name="A"), sim.Firm(name="A")])


def test_a_market_needs_at_least_one_firm():
    assert "at least one firm" in error_of(firms=[])


def test_firms_are_given_either_as_a_list_or_as_flat_settings_not_both():
    message = error_of(firms=[sim.Firm(name="A")], quality=0.5)
    assert "quality" in message


def test_every_error_is_a_value_error_also_from_policy_classes():
    with pytest.raises(ValueError, match="effort"):
        sim.ServiceRecovery(effort=2)
    with pytest.raises(ValueError, match="quality"):
        sim.Firm(quality=-1)


@pytest.mark.parametrize(
    "spec",
    [
        "ServiceRecovery(effort=0.8)",
        {"kind": "ServiceRecovery", "effort": 0.8},
        sim.ServiceRecovery(effort=0.8),
    ],
)
def test_a_policy_may_be_given_as_instance_string_or_mapping(spec):
    market = make_market(policies=[spec])
    (policy,) = market.firms[0].policies
    assert policy == sim.ServiceRecovery(effort=0.8)


def test_a_single_policy_name_is_accepted_without_a_list():
    market = make_market(policies="SmallGifts")
    assert market.firms[0].policies == (sim.SmallGifts(),)


def test_a_market_accepts_firms_as_mappings():
    market = make_market(firms=[{"name": "A", "quality": 0.6}, {"name": "B", "policies": ["Upsell"]}])
    assert [f.name for f in market.firms] == ["A", "B"]
    assert market.firm_quality[0] == 0.6
    assert market.firms[1].policies == (sim.Upsell(),)


def test_firm_price_defaults_to_the_market_price():
    market = make_market(price=42.0, firms=[sim.Firm(name="A"), sim.Firm(name="B", price=60.0)])
    assert list(market.firm_price) == [42.0, 60.0]


def test_firm_contract_length_defaults_to_the_market_contract_length():
    market = make_market(contract_months=6, firms=[sim.Firm(name="A"), sim.Firm(name="B", contract_months=0)])
    assert list(market.firm_contract_months) == [6, 0]


def test_parameters_given_to_the_market_are_kept():
    market = make_market(complaint_probability=0.42, mean_degree=6)
    assert market.parameters.complaint_probability == 0.42
    assert market.parameters.mean_degree == 6
    assert market.parameters.n_people == market.customers.n

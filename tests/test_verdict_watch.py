"""Verdicts under watch (sim/experiments/watch.py, docs/verdicts.yaml): every shipped scenario's
verdicts are recorded, and a change to the model that flips a sign or moves an estimate out of
its recorded interval fails the slow test until the record is regenerated and reviewed."""

from __future__ import annotations

import copy

import pytest

from sim.experiments import watch
from sim.scenario import SHIPPED, load_scenario

RECORDED = watch.load()


def test_the_record_covers_every_shipped_scenario_and_every_compared_group():
    assert RECORDED["replications"] == watch.REPLICATIONS
    assert set(RECORDED["scenarios"]) == {path.stem for path in SHIPPED.glob("*.yaml")}
    for name, entry in RECORDED["scenarios"].items():
        groups = load_scenario(SHIPPED / f"{name}.yaml").groups
        assert entry["baseline"] == groups.baseline
        assert set(entry["verdicts"]) == set(groups.others()), name
        for measures in entry["verdicts"].values():
            assert set(measures) == {groups.share_measure, "npv"}
            for m in measures.values():
                assert m["low"] <= m["diff"] <= m["high"] and m["sign"] == watch.sign(m["low"], m["high"])


def test_signs_are_read_from_the_interval():
    assert (watch.sign(0.1, 2.0), watch.sign(-2.0, -0.1), watch.sign(-0.1, 2.0)) == ("+", "-", "?")


def one_verdict(diff, low, high) -> dict:
    return {"replications": 4, "scenarios": {"s": {"baseline": "a", "verdicts": {"b": {
        "npv": {"diff": diff, "low": low, "high": high, "sign": watch.sign(low, high)}}}}}}


def test_differences_name_a_flipped_sign_an_estimate_that_left_its_interval_and_a_vanished_group():
    recorded = one_verdict(8.0, 5.0, 11.0)
    assert watch.differences(recorded, copy.deepcopy(recorded)) == []
    assert watch.differences(recorded, one_verdict(9.0, 6.0, 12.0)) == []  # moved, inside the interval
    flipped = watch.differences(recorded, one_verdict(-8.0, -11.0, -5.0))
    assert len(flipped) == 1 and "sign + -> -" in flipped[0]
    left = watch.differences(recorded, one_verdict(12.0, 10.0, 14.0))
    assert len(left) == 1 and "left the recorded interval" in left[0]
    gone = copy.deepcopy(recorded)
    gone["scenarios"]["s"]["verdicts"] = {}
    assert watch.differences(recorded, gone) == ["s / b: vanished"]


@pytest.mark.slow
def test_the_shipped_scenarios_verdicts_hold_their_record():
    moved = watch.differences(RECORDED, watch.measure())
    assert not moved, "verdicts moved; review and run `python docs/regenerate.py --only verdicts`:\n" + "\n".join(moved)

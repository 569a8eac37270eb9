"""Sensitivity analysis (sim.experiments.sensitivity, `grapevine sensitivity`): indices, winners, files, errors.

Sizes are tiny: these tests check behaviours (a setting that cannot matter gets exactly 0,
the winner shares partition the space, the files are written), not the numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import sensitivity as analysis
from sim.cli import main
from sim.scenario import InputError, Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios" / "sensitivity-recovery.yaml"
TINY_MARKET = {"n_people": 300, "months": 12, "warm_up_months": 6, "contract_months": 6, "agent_view_limit": 0}

# Settings that cannot change some outputs, whatever the others are:
COST_ONLY = "arms.recover.add[0].cost_at_full_effort"   # money, not behaviour: retention cannot move
RECOVER_ONLY = "arms.recover.add[0].effort"              # the ignore arm cannot feel it
NOT_RUN = "arms.gifts.add[0].value_share"                # an arm that is not compared never runs


def tiny(method="morris", samples=2, replications=2, **extra) -> Scenario:
    return Scenario.model_validate({
        "name": "tiny-sensitivity", "seed": 5,
        "market": TINY_MARKET,
        "firms": [{"name": "Telco", "failure_rate": 0.05, "policies": ["RenewalCall"]}],
        "compare": {"baseline": "ignore", "arms": [
            {"name": "ignore"},
            {"name": "recover", "add": [{"kind": "ServiceRecovery", "effort": 0.7}]},
            {"name": "gifts", "add": [{"kind": "SmallGifts"}]},
        ]},
        "sensitivity": {
            "method": method, "samples": samples, "replications": replications,
            "outputs": ["retention", "npv"], "compare": ["recover", "ignore"],
            "parameters": {
                "firms.Telco.failure_rate": [0.01, 0.1],
                "market.complaint_probability": [0.1, 0.9],
                RECOVER_ONLY: [0.2, 1.0],
                COST_ONLY: [0.2, 2.0],
                NOT_RUN: [0.001, 0.05],
            },
            **extra,
        },
    })


@pytest.fixture(scope="module")
def morris():
    return analysis.sensitivity(tiny("morris"))


@pytest.fixture(scope="module")
def sobol():
    return analysis.sensitivity(tiny("sobol", samples=4, replications=1))


def importance(result, output, parameter) -> float:
    t = result.indices
    return float(t[(t["output"] == output) & (t["parameter"] == parameter)]["importance"].iloc[0])


@pytest.mark.parametrize("which", ["morris", "sobol"])
def test_settings_that_cannot_matter_get_exactly_zero(which, morris, sobol):
    result = {"morris": morris, "sobol": sobol}[which]
    for output in result.design.outputs():
        assert importance(result, output, NOT_RUN) == 0.0, output
    for output in ("retention[recover]", "retention[ignore]", "retention[recover - ignore]"):
        assert importance(result, output, COST_ONLY) == 0.0, output
    for output in ("retention[ignore]", "npv[ignore]"):
        assert importance(result, output, RECOVER_ONLY) == 0.0, output
    assert importance(result, "npv[recover]", COST_ONLY) > 0  # but it costs money
    assert importance(result, "retention[ignore]", "firms.Telco.failure_rate") > 0


def test_indices_table_has_every_output_and_parameter(morris, sobol):
    for result, columns in ((morris, {"mu", "mu_star", "mu_star_conf", "sigma"}), (sobol, {"S1", "ST", "S1_conf"})):
        table = result.indices
        assert columns <= set(table.columns)
        assert len(table) == len(result.design.outputs()) * len(result.design.names)
        assert set(table["output"]) == {f"{k}[{w}]" for k in ("retention", "npv")
                                        for w in ("recover", "ignore", "recover - ignore")}
        assert np.isfinite(table["importance"]).all()
    # the shapes of the SALib designs: Morris (k + 1) x trajectories, Sobol (k + 2) x N
    assert len(morris.points) == (5 + 1) * 2 and len(sobol.points) == (5 + 2) * 4


def test_paired_difference_is_the_difference_of_the_arms(morris):
    p = morris.points
    assert np.allclose(p["npv[recover - ignore]"], p["npv[recover]"] - p["npv[ignore]"])
    # integer settings are rounded, floats kept; every point lies within the bounds
    for name, (low, high) in zip(morris.design.names, morris.design.bounds):
        assert p[name].between(low, high).all()


def test_winner_shares_partition_the_space(morris, sobol):
    for result in (morris, sobol):
        shares, points = result.shares, result.points
        assert shares["share"].sum() == pytest.approx(1.0)
        assert shares["points"].sum() == len(points)
        assert (shares["clear_share"] <= shares["share"] + 1e-12).all()
        diff = points["npv[recover - ignore]"]
        assert ((points["winner"] == "recover") == (diff > 0)).all()
        deciders = result.deciders
        assert set(deciders["parameter"]) == set(result.design.names)
        assert deciders["balanced_accuracy"].is_monotonic_decreasing
        assert deciders["balanced_accuracy"].between(0.5, 1.0).all()
        sentences = result.verdict()
        assert sentences[0].startswith("recover beats ignore on npv in ")


def test_stump_finds_a_clean_threshold_even_for_a_rare_winner():
    v = np.linspace(0, 1, 41)
    threshold, side, accuracy = analysis._stump(v, v > 0.9)  # X wins 10% of the space
    assert side == "above" and accuracy == 1.0 and abs(threshold - 0.9) < 0.03
    threshold, side, accuracy = analysis._stump(v, v <= 0.6)
    assert side == "below" and accuracy == 1.0
    assert analysis._stump(v, np.zeros(41, bool))[1:] == ("", 0.5)  # never wins: no rule


@pytest.mark.cluster
def test_runs_do_not_depend_on_workers():
    spec = {"samples": 2, "replications": 1, "compare": ["recover", "ignore"],
            "parameters": {"market.complaint_probability": [0.1, 0.9]}}
    serial = analysis.sensitivity(tiny(), spec, workers=1).points
    parallel = analysis.sensitivity(tiny(), spec, workers=2).points
    pd.testing.assert_frame_equal(serial, parallel)


def test_head_to_head_compares_two_firms():
    scenario = Scenario.model_validate({
        "name": "duel", "market": TINY_MARKET,
        "firms": [{"name": "Carer", "policies": [{"kind": "ServiceRecovery"}]},
                  {"name": "Ignorer", "policies": ["IgnoreUntilRenewal"]}],
        "compare": {"kind": "head_to_head", "baseline": "Ignorer"},
        "sensitivity": {"samples": 2, "replications": 1, "outputs": ["market_share"],
                        "parameters": {"firms.Carer.policies[0].effort": [0.1, 1.0],
                                       "market.complaint_probability": [0.1, 0.9]}},
    })
    result = analysis.sensitivity(scenario)
    p = result.points
    assert result.design.x == "Carer" and result.design.y == "Ignorer"
    assert np.allclose(p["market_share[Carer]"] + p["market_share[Ignorer]"], 100.0)


def test_cli_writes_indices_and_plots(tmp_path, capsys):
    out = tmp_path / "sens"
    sets = [f"market.{k}={v}" for k, v in TINY_MARKET.items()] + ["sensitivity.samples=2",
                                                                  "sensitivity.replications=1"]
    args = ["sensitivity", str(SHIPPED), "--out", str(out), "--quiet"]
    for item in sets:
        args += ["--set", item]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "mu*" in printed and "recover beats ignore" in printed
    for name in (*analysis.TABLES, "indices.png", "winners.png", "manifest.json"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "indices.png").read_bytes()[:4] == b"\x89PNG"
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["parameter"]) == set(load_scenario(SHIPPED).sensitivity.parameters)
    manifest = json.loads((out / "manifest.json").read_text())
    extra = manifest["experiment"]["extra"]
    assert manifest["kind"] == "sensitivity" and extra["compared"] == ["recover", "ignore"]
    assert extra["sensitivity"]["samples"] == 2
    assert len(manifest["experiment"]["points"]) == len(pd.read_csv(out / "points.csv"))
    assert main(args) == 2  # the folder is not empty now: refused, nothing overwritten
    assert "already exists" in capsys.readouterr().err


def test_shipped_sensitivity_scenario_is_valid():
    scenario = load_scenario(SHIPPED)
    design = analysis.design_of(analysis.experiment(scenario))
    assert scenario.sensitivity.method == "morris" and design.x == "recover" and design.y == "ignore"
    assert design.integer[design.names.index("market.contract_months")]
    assert len(design.X) == (len(design.names) + 1) * scenario.sensitivity.samples


@pytest.mark.parametrize("parameters, compare, expected", [
    ({"market.complaint_probabilty": [0.1, 0.5]}, None, "did you mean 'complaint_probability'"),
    ({"market.complaint_probability": [0.1, 1.5]}, None, "= 1.5 is not allowed"),
    ({"arms.nobody.add[0].effort": [0.1, 0.5]}, None, "choose from ignore, recover, gifts"),
    ({"firms.Telco.name": [0.1, 0.5]}, None, "not a number"),
    ({"market.complaint_probability": [0.1, 0.5]}, ["recover", "nobody"], "'nobody' is not an arm"),
])
def test_bad_sections_get_one_clear_error(parameters, compare, expected):
    data = tiny().model_dump(mode="json")
    data["sensitivity"] = {"parameters": parameters, "compare": compare}
    with pytest.raises(InputError) as error:
        analysis.experiment(Scenario.model_validate(data), source="x.yaml")
    assert expected in str(error.value) and str(error.value).startswith("x.yaml: sensitivity")


def test_cli_bad_input_exits_2(tmp_path, capsys):
    plain = ROOT / "scenarios" / "quickstart.yaml"
    assert main(["sensitivity", str(plain), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "no sensitivity section" in capsys.readouterr().err and not (tmp_path / "x").exists()
    reversed_range = ["--set", "sensitivity.parameters={market.price: [60, 40]}"]
    assert main(["sensitivity", str(SHIPPED), "--out", str(tmp_path / "y"), "--quiet", *reversed_range]) == 2
    assert "low < high" in capsys.readouterr().err

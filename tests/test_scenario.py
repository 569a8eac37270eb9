"""Scenario files: the shipped ones validate, bad ones get one clear located error each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.firm import Firm
from sim.policies import Policy
from sim.scenario import InputError, Scenario, json_schema, load_scenario, shipped_scenarios, starter

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
BROKEN = Path(__file__).parent / "broken_scenarios"

# file -> what the error must say (field path, line, hint)
EXPECTED = {
    "wrong_type.yaml": ["market.n_people = 'lots'", "line 4", "firms[0].quality = 'high'", "line 7"],
    "out_of_range.yaml": ["line 13", "compare.arms[1].add[1].effort = 1.5", "less than or equal to 1"],
    "unknown_key.yaml": ["market.n_peeple", "did you mean 'n_people'", "firms[0].qualty", "did you mean 'quality'"],
    "unknown_policy_setting.yaml": ["line 11", "compare.arms[1].add[0].efort", "did you mean 'effort'"],
    "unknown_policy.yaml": ["compare.arms[1].add[0].kind", "did you mean 'ServiceRecovery'", "SmallGifts"],
    "unknown_policy_in_firm.yaml": ["line 4", "firms[0].policies[0].kind", "did you mean 'ServiceRecovery'"],
    "empty.yaml": ["the file is empty"],
    "comments_only.yaml": ["the file is empty"],
    "not_yaml.yaml": ["line 2", "not valid YAML"],
    "prose.yaml": ["line 1", "must be a mapping"],
    "a_list.yaml": ["must be a mapping", "not a list"],
    "yaml_bomb.yaml": ["YAML bomb"],
    "recursive_alias.yaml": ["refers to itself"],
    "huge_number.yaml": ["line 2", "numbers are limited"],
    "huge_value.yaml": ["line 3", "market.n_people", "finite"],
    "too_many_people.yaml": ["market.n_people = 900000000000", "less than or equal to"],
    "unknown_network.yaml": ["market.network = 'smallworld'", "'small_world'"],
    "unknown_sector.yaml": ["line 2", "sector = 'mobile'", "'postpaid_mobile'", "'broadband'"],
    "missing_firms.yaml": ["firms: required"],
    "one_arm.yaml": ["line 6", "compare.arms", "two or more arms"],
    "old_arm_policies.yaml": ["line 7", "compare.arms[0].policies", "says what it changes from the baseline", "add:"],
    "arm_drops_a_job.yaml": ["compare.arms[1].replace.IgnoreUntilRenewal", "drops what IgnoreUntilRenewal did",
                             "call at renewal"],
    "arm_two_answers.yaml": ["compare.arms[1].add", "IgnoreUntilRenewal and ServiceRecovery both answer complaints"],
    "bad_baseline.yaml": ["line 5", "compare.baseline", "choose one of a, b"],
    "duplicate_key.yaml": ["line 3", "'seed' appears twice"],
    "reversed_range.yaml": ["negative_reach_min"],
    "binary.yaml": ["not a text file"],
    # edge-list files: read and checked when the scenario is, relative to the scenario file
    "edge_list_garbage.yaml": ["line 4", "market.edge_list_path", "edges/garbage.txt", "line 2", "'garbage'"],
    "edge_list_huge_id.yaml": ["edges/huge_id.txt", "line 2", "'100000000000000000000'", "below 2**63"],
    "edge_list_empty.yaml": ["edges/empty.txt", "no ties"],
    "edge_list_binary.yaml": ["edges/binary.txt", "not a text file"],
    "edge_list_mixed_columns.yaml": ["edges/mixed_columns.txt", "line 2 has 2 fields but line 1 has 3"],
    "edge_list_bad_strength.yaml": ["edges/bad_strength.txt", "strength 'maybe'", "strong/weak"],
    "edge_list_one_person.yaml": ["edges/one_person.txt", "1 person", "2 or more"],
    "edge_list_folder.yaml": ["broken_scenarios/edges'", "not a regular file"],
    "edge_list_missing.yaml": ["edges/nope.txt", "no such file"],
    "edge_list_n_people_disagrees.yaml": ["line 5", "market.n_people = 300", "has 10 people", "the file decides"],
    "sweep_over_a_missing_edge_list.yaml": ("sweep", ["market.edge_list_path", "edges/nope.txt", "no such file"]),
    # numbers must be finite
    "infinite_price.yaml": ["line 3", "market.price = inf", "finite number"],
    "infinite_firm_price.yaml": ["line 4", "firms[0].price = inf", "finite number"],
    "infinite_policy_cost.yaml": ["compare.arms[1].add[0].cost_at_full_effort = inf", "finite number"],
    "infinite_tie_weight.yaml": ["market.strong_tie_weight = inf", "finite number"],
    "not_a_number.yaml": ["market.discount_rate = nan", "finite number"],
    "infinite_sweep_bound.yaml": ["sweep.parameters.market.price.high = inf", "finite number"],
    "reversed_sweep_range.yaml": ["sweep.parameters.firms[0].quality", "low < high"],
    "infinite_sensitivity_bound.yaml": ["market.price = [1, inf]", "[low, high], two finite numbers"],
    "sensitivity_bound_not_a_pair.yaml": ["market.months = [12]", "[low, high]"],
    # sizes this machine cannot hold: refused with the estimate
    "too_big_for_memory.yaml": ["a run needs about", "B of memory (50,000,000 people", "this machine has"],
    # smaller
    "python_tag.yaml": ["line 2", "python/object/apply", "no tags"],
    "bad_arm_name.yaml": ["compare.arms[0].name = 'a b'", "letters, digits"],
}


def test_the_corpus_is_covered():
    assert {p.name for p in BROKEN.glob("*.yaml")} == set(EXPECTED)


def expected(name: str) -> tuple[str, list[str]]:
    """(the command that meets the problem, what its error must say)."""
    found = EXPECTED[name]
    return found if isinstance(found, tuple) else ("run", found)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_gets_a_clear_error_and_writes_nothing(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default results/ folder would be made here
    out = tmp_path / "out"
    command, needles = expected(name)
    status = main([command, str(BROKEN / name), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"error: {BROKEN / name}")
    assert len(err.strip().splitlines()) == len(set(err.strip().splitlines())), "a problem said twice"
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert main(["validate", str(BROKEN / name)]) == 2


@pytest.mark.parametrize("name", ["yaml_bomb.yaml", "not_yaml.yaml", "out_of_range.yaml", "edge_list_garbage.yaml",
                                  "infinite_price.yaml", "too_big_for_memory.yaml", "python_tag.yaml",
                                  "sweep_over_a_missing_edge_list.yaml"])
def test_broken_file_from_the_shell(name, tmp_path):
    out = tmp_path / "out"
    command, _ = expected(name)
    done = subprocess.run([sys.executable, "-m", "sim.cli", command, str(BROKEN / name), "--out", str(out)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.startswith("error:")
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no folder, no results/, nothing


def test_a_device_is_refused_at_once(tmp_path):
    """`validate /dev/zero` would read without end: a scenario is a regular file."""
    done = subprocess.run([sys.executable, "-m", "sim.cli", "validate", "/dev/zero"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not a regular file" in done.stderr


def test_a_name_is_derived_from_any_file_name(tmp_path, capsys):
    """A file without `name:` is named after the file, in the letters a name allows."""
    path = tmp_path / "été résumé.yaml"
    path.write_text((BROKEN.parent.parent / "scenarios" / "quickstart.yaml").read_text().replace("name: quickstart", ""))
    assert load_scenario(path).name == "ete-resume"
    path = tmp_path / "§§.yaml"
    path.write_text((BROKEN.parent.parent / "scenarios" / "quickstart.yaml").read_text().replace("name: quickstart", ""))
    assert load_scenario(path).name == "scenario"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenarios_validate_and_say_what_they_ask(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description
    assert "Question" in path.read_text() or "question" in path.read_text()
    assert "sector:" in path.read_text()  # says which sector's churn it should show
    for arm in scenario.groups.runs:
        for firm in scenario.firms_for(arm):
            Firm(**firm)  # the engine accepts what the scenario resolved


def test_every_claim_has_a_scenario():
    names = {name for name, _ in shipped_scenarios()}
    assert {"quickstart", "renewal-neglect", "small-gifts", "recovery-effort", "retention-vs-winback",
            "upsell-satisfied", "head-to-head"} <= names


def test_policy_forms_agree(tmp_path):
    base = {"name": "forms", "firms": [{"name": "Telco"}]}
    forms = [
        ["ServiceRecovery(effort=0.8)"],
        [{"kind": "ServiceRecovery", "effort": 0.8}],
        "ServiceRecovery(effort=0.8)",
    ]
    resolved = []
    for form in forms:
        data = {**base, "compare": {"arms": [{"name": "b"}, {"name": "a", "add": form}]}}
        resolved.append(Scenario.model_validate(data).firms_for("a"))
    assert resolved[0] == resolved[1] == resolved[2]
    assert resolved[0][0]["policies"][0]["effort"] == 0.8


def test_schema_lists_every_registered_policy():
    schema = json_schema()
    assert set(Policy.registry) <= set(schema["$defs"])
    assert "n_people" in schema["$defs"]["MarketParameters"]["properties"]


def test_overrides_and_round_trip():
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml",
                             ["market.n_people=500", "compare.arms[1].add[0].effort=0.3"], replications=3)
    assert scenario.market.n_people == 500 and scenario.replications == 3
    assert scenario.compare.arms[1].add[0].effort == 0.3
    again = Scenario.model_validate(scenario.resolved())
    assert again.digest() == scenario.digest()


def test_bad_override_says_it_came_from_the_command_line():
    with pytest.raises(InputError) as error:
        load_scenario(ROOT / "scenarios" / "quickstart.yaml", ["firms[0].quality=2"])
    assert "--set firms[0].quality" in str(error.value) and "less than or equal to 1" in str(error.value)
    with pytest.raises(InputError, match="has no entry"):
        load_scenario(ROOT / "scenarios" / "quickstart.yaml", ["firms[3].quality=0.5"])


def test_starter_is_a_valid_scenario(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(starter("mine", str(path)))
    scenario = load_scenario(path)
    assert scenario.name == "mine" and len(scenario.groups.runs) == 3

"""docs/MODEL.md's parameter tables match the code.

If this fails after a default, bound, unit, source or policy setting changed, regenerate
the tables with `python docs/make_model_tables.py` and commit docs/MODEL.md.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from sim.firm import Firm
from sim.parameters import MarketParameters
from sim.policies import Policy

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "make_model_tables.py"
MODEL_MD = ROOT / "docs" / "MODEL.md"


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("make_model_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_section(text: str, tables) -> str:
    start, end = text.index(tables.START), text.index(tables.END)
    return text[start + len(tables.START) : end].strip("\n")


def test_model_md_tables_are_up_to_date(tables):
    text = MODEL_MD.read_text(encoding="utf-8")
    current = generated_section(text, tables)
    wanted = tables.render().strip("\n")
    assert current == wanted, (
        "docs/MODEL.md's parameter tables are out of date: run `python docs/make_model_tables.py`"
    )
    assert tables.render_document(text) == text


def test_every_setting_is_in_the_tables(tables):
    rendered = tables.render()
    names = [*MarketParameters.model_fields, *Firm.model_fields]
    for policy in Policy.registry.values():
        names += list(policy.model_fields)
    missing = [name for name in names if f"| `{name}` |" not in rendered]
    assert not missing, f"settings missing from the rendered tables: {missing}"
    for kind in Policy.registry:
        assert f"#### {kind}" in rendered


def test_bounds_and_defaults_are_rendered(tables):
    field = MarketParameters.model_fields["satisfaction_memory"]
    assert tables.bounds_text(field) == "[0, 1)"
    assert tables.bounds_text(MarketParameters.model_fields["price"]) == "> 0"
    rendered = tables.render()
    default = tables.default_text(MarketParameters.model_fields["base_churn"])
    assert f"| `base_churn` | {default} |" in rendered


def test_check_command_exits_0_when_current_and_1_when_stale(tmp_path):
    assert subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True).returncode == 0
    stale = tmp_path / "MODEL.md"
    stale.write_text(MODEL_MD.read_text(encoding="utf-8").replace("| `base_churn` |", "| `base_churn_old` |"))
    result = subprocess.run([sys.executable, str(SCRIPT), "--check", "--path", str(stale)], capture_output=True)
    assert result.returncode == 1
    assert b"out of date" in result.stderr


# --- the README: a doorway of at most 8 KB whose code runs as written ---------------------------------
README = ROOT / "README.md"


def blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [part.split("```", 1)[0] for part in text.split(f"```{language}\n")[1:]]


def test_readme_is_a_doorway_of_at_most_8_kb():
    assert README.stat().st_size <= 8192


def test_readme_shows_the_quickstart_scenario_as_it_is():
    assert blocks("yaml")[0].strip() == (ROOT / "scenarios" / "quickstart.yaml").read_text(encoding="utf-8").strip()


def test_readme_policy_recipe_is_a_working_policy():
    import numpy as np

    import sim

    recipe = next(code for code in blocks("python") if "class LoyaltyPoints" in code)
    namespace: dict = {}
    try:
        exec(compile(recipe, "README.md", "exec"), namespace)
        policy = namespace["LoyaltyPoints"](redeem_at=4)
        market = sim.Market(seed=2, n_people=400, months=12, policies=["RenewalCall", policy]).run()
        monthly = market.monthly()
        assert monthly["rewards"].sum() > 0 and np.isclose(monthly["cost_rewards"].sum(),
                                                           monthly["rewards"].sum() * 0.1 * 50.0)
        assert (market.customers.points[market.customers.is_customer] < 4).all()
    finally:
        sim.Policy.registry.pop("LoyaltyPoints", None)


@pytest.mark.slow
def test_readme_python_runs_as_written():
    code = next(code for code in blocks("python") if "run_scenario" in code)
    exec(compile(code, "README.md", "exec"), {})


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    """Every `.venv/bin/grapevine` line of the README's shell blocks, in a copy of the project folder
    layout (the commands write results/ and my-question.yaml where they run)."""
    import shutil

    grapevine = Path(sys.executable).with_name("grapevine")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    lines = [line.split("#", 1)[0].strip() for code in blocks("sh") for line in code.splitlines()]
    commands = [line for line in lines if line.startswith(".venv/bin/grapevine") and " dashboard" not in line]
    assert len(commands) >= 4
    for command in commands:
        args = command.split()[1:]
        done = subprocess.run([str(grapevine), *args], cwd=tmp_path, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, (command, done.stderr[-2000:])


# --- the prose of docs/MODEL.md names settings that exist, with the values they have (issue 12) ---
# Conventions of MODEL.md: "`name` 0.9" states a default; "`name=0.05`" is a value set for an
# experiment or a docking, and the Bass docking row (section 10, rung 1) lists exactly the
# settings `sim.experiments.validation.BASS` runs.
import re  # noqa: E402

import numpy as np  # noqa: E402

from sim.experiments import validation  # noqa: E402

SNAKE = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`")
STATED_DEFAULT = re.compile(r"`([a-z][a-z0-9_]*)` (\d+(?:\.\d+)?)\b")
SET_VALUE = re.compile(r"`([a-z][a-z0-9_]*)=([^`]+)`")


def _prose() -> str:
    """MODEL.md without its generated parameter tables (checked by the tests above)."""
    text = MODEL_MD.read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location("make_model_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return text[: text.index(module.START)] + text[text.index(module.END):]


def _code_words() -> set[str]:
    words = set()
    for path in (ROOT / "sim").rglob("*.py"):
        words |= set(re.findall(r"[a-z][a-z0-9_]*", path.read_text(encoding="utf-8")))
    return words


def test_every_snake_case_name_model_md_mentions_exists_in_the_code():
    code = _code_words()
    # a variable with its subscript (`quality_f`, `talks_negative_i`) names the variable
    names = {name if name in code else re.sub(r"_[a-z]{1,2}$", "", name) for name in SNAKE.findall(_prose())}
    missing = sorted(name for name in names - code if f"{name}_" not in code)  # f"landing_added_{k}" in code
    assert not missing, f"docs/MODEL.md names what the code does not have: {missing}"


def test_every_default_model_md_states_is_the_codes_default():
    defaults = MarketParameters()
    stated = [(name, float(value)) for name, value in STATED_DEFAULT.findall(_prose())
              if name in MarketParameters.model_fields]
    assert len(stated) >= 2  # the check has something to check
    wrong = [(name, value, getattr(defaults, name)) for name, value in stated if getattr(defaults, name) != value]
    assert not wrong, f"docs/MODEL.md states defaults the code does not have (name, stated, code): {wrong}"


def test_model_md_lists_exactly_the_settings_of_the_bass_docking():
    row = next(line for line in _prose().splitlines() if line.startswith("| 1 | **Bass docking**"))
    stated = {name: value.strip('"') for name, value in SET_VALUE.findall(row)}
    assert set(stated) == set(validation.BASS)
    for name, value in stated.items():
        code = validation.BASS[name]
        if isinstance(code, str):
            assert value == code, name
        else:
            assert np.isclose(eval(value, {}), code), (name, value, code)  # "0.03/12": numbers only

"""Scenario input: the schema of scenario files, reading them, `--set` paths and the starter file."""

from ..errors import InputError
from .loading import SHIPPED, find_scenario, from_data, load_scenario, parse_yaml, validate
from .paths import get_at, parse_path, set_at, setting_path
from .schema import (ARM_NAME, HEAD_TO_HEAD, KPI_NAMES, SCENARIO_NAME, Arm, Compare, Groups, Precision, Scenario,
                     Sensitivity, Sweep, SweepRange, json_schema, policy_data)
from .starter import shipped_scenarios, starter

__all__ = [
    "InputError", "SHIPPED", "find_scenario", "from_data", "load_scenario", "parse_yaml", "validate",
    "get_at", "parse_path", "set_at", "setting_path",
    "ARM_NAME", "HEAD_TO_HEAD", "KPI_NAMES", "SCENARIO_NAME", "Arm", "Compare", "Groups", "Precision", "Scenario",
    "Sensitivity", "Sweep", "SweepRange", "json_schema", "policy_data", "shipped_scenarios", "starter",
]

"""The deployed rule's parameters, from the same settings the CDK app reads.

``cdk.json``'s ``context`` holds the defaults, ``-c key=value`` overrides one (as with
``npx cdk synth -c``); :class:`stacks.settings.account.Settings` validates them and gives the rule's
input parameters, which the rule's own :func:`~vpc_flow_logs_rule.parameters.parse_parameters`
then reads. The audit therefore judges with exactly what the deployed rule is given.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from stacks.settings.account import SETTING_KEY, Settings, SettingsError, in_region
from vpc_flow_logs_rule.parameters import ParameterError, RuleParameters, parse_parameters

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PROJECT_CDK_JSON: Final = Path(__file__).resolve().parent.parent / "cdk.json"
SAMPLE_REGION: Final = "us-east-1"
"""Any Region: settings are checked with it before the audit reads the real ones."""


class UsageError(ValueError):
    """The command line or the settings cannot be used; the message says what to change."""


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``key=value`` strings (``-c``) into a mapping; a repeated key keeps the last value."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not SETTING_KEY.fullmatch(key.strip()):
            raise UsageError(f"-c {pair!r}: expected key=value with a setting key like trafficType")
        overrides[key.strip()] = value
    return overrides


def load_context(cdk_json: Path) -> dict[str, Any]:
    try:
        document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"cannot read the settings in {cdk_json}: {error}") from None
    context = document.get("context") if isinstance(document, dict) else None
    if not isinstance(context, dict):
        raise UsageError(f"{cdk_json} has no 'context' object with the settings")
    return context


def settings(cdk_json: Path, overrides: Sequence[str]) -> Settings:
    """The per-account stack's settings, as ``npx cdk synth -c ...`` would build them.

    Only the per-account settings apply to the rule, so a ``-c`` key must be one of those in
    ``cdk.json`` (which lists every one with its default).
    """
    context = load_context(cdk_json)
    given = parse_overrides(overrides)
    unknown = sorted(set(given) - set(context))
    if unknown:
        raise UsageError(
            f"unknown setting(s) {', '.join(unknown)}; the rule's settings are: "
            + ", ".join(sorted(k for k in context if SETTING_KEY.fullmatch(k)))
        )
    merged = {**context, **given}
    try:
        return Settings.from_mapping(merged)
    except SettingsError as error:
        raise UsageError(str(error)) from None


def rule_parameters(cdk_json: Path, overrides: Sequence[str]) -> Callable[[str], RuleParameters]:
    """The rule's parameters in each region, as that region's stack gives them to the rule
    (``{region}`` in a central ARN made the region), parsed by the rule's own code.

    Settings the rule would refuse raise ``UsageError`` here, before any region is read.
    """
    deployed = settings(cdk_json, overrides).rule_input_parameters()

    @cache
    def in_(region: str) -> RuleParameters:
        return parse_parameters(in_region(deployed, region))

    try:
        in_(SAMPLE_REGION)
    except ParameterError as error:
        raise UsageError(str(error)) from None
    return in_

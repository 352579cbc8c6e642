"""Automatic remediation: AWS Config runs the runbook on every non-compliant VPC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_config as config
from constructs import Construct

if TYPE_CHECKING:
    from collections.abc import Mapping

RESOURCE_ID_PARAMETER = "VpcId"
ROLE_PARAMETER = "AutomationAssumeRole"


@dataclass(frozen=True)
class AutoRemediationProps:
    """Which rule, which document, and how Config may run it."""

    rule: config.IRule
    document_name: str
    automation_role_arn: str
    static_parameters: Mapping[str, str]
    """Every other document parameter, as strings; an empty value is left to the document's
    default (Config does not accept empty static values)."""
    automatic: bool
    maximum_automatic_attempts: int
    retry_attempt_seconds: int
    concurrent_execution_rate_percentage: int
    error_percentage: int
    document_parameters: Mapping[str, Mapping[str, Any]] | None = None
    """The document's declared parameters; when given, every static parameter must be one of
    them, with a value among its ``allowedValues`` (a value known only at deployment is not
    checked here)."""


class AutoRemediation(Construct):
    """``AWS::Config::RemediationConfiguration`` that runs an Automation document per VPC."""

    def __init__(self, scope: Construct, construct_id: str, props: AutoRemediationProps) -> None:
        super().__init__(scope, construct_id)
        parameters: dict[str, Any] = {
            RESOURCE_ID_PARAMETER: {"ResourceValue": {"Value": "RESOURCE_ID"}},
            ROLE_PARAMETER: {"StaticValue": {"Values": [props.automation_role_arn]}},
        }
        if props.document_parameters is not None:
            _check_against_document(props.static_parameters, props.document_parameters)
        for name, value in sorted(props.static_parameters.items()):
            if name in parameters:
                raise ValueError(f"remediation parameter {name!r} is set by the construct")
            if value:
                parameters[name] = {"StaticValue": {"Values": [value]}}

        self.configuration = config.CfnRemediationConfiguration(
            self,
            "Resource",
            # A Ref to the rule: CloudFormation creates the rule first.
            config_rule_name=props.rule.config_rule_name,
            target_type="SSM_DOCUMENT",
            target_id=props.document_name,
            resource_type="AWS::EC2::VPC",
            parameters=parameters,
            automatic=props.automatic,
            maximum_automatic_attempts=props.maximum_automatic_attempts,
            retry_attempt_seconds=props.retry_attempt_seconds,
            execution_controls=config.CfnRemediationConfiguration.ExecutionControlsProperty(
                ssm_controls=config.CfnRemediationConfiguration.SsmControlsProperty(
                    concurrent_execution_rate_percentage=props.concurrent_execution_rate_percentage,
                    error_percentage=props.error_percentage,
                )
            ),
        )


def _check_against_document(
    values: Mapping[str, str], declared: Mapping[str, Mapping[str, Any]]
) -> None:
    """SSM refuses an execution whose parameter the document does not declare, or whose value is
    not one of its allowedValues: fail the synth instead of every remediation."""
    problems = []
    for name, value in sorted(values.items()):
        spec = declared.get(name)
        if spec is None:
            problems.append(f"{name!r} is not a parameter of the document")
            continue
        allowed = [str(item) for item in spec.get("allowedValues", [])]
        if value and allowed and not cdk.Token.is_unresolved(value) and value not in allowed:
            problems.append(f"{name!r} = {value!r} is not one of its allowedValues {allowed}")
    if problems:
        raise ValueError("remediation parameters the runbook refuses: " + "; ".join(problems))

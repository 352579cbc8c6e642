"""Play AWS Config for the stack's custom rule: notify the Lambda, read evaluations, remediate.

The events are built the way Config builds them (``ConfigurationItemChangeNotification`` with a
configuration item recorded from the embedded AWS's current state, ``ScheduledNotification``),
and flow logs' items come from the recorder (:func:`local_aws.moto_patches.configuration_items`):
each one recorded since the last delivery becomes one notification, as Config sends them,
with the rule's input parameters from the template, and handed to the function's Lambda runner.
The function reports with ``PutEvaluations`` (not in test mode); the evaluations are read back
with ``GetComplianceDetailsByConfigRule``, as the console does. Remediation follows the
template's ``RemediationConfiguration``: ``RESOURCE_ID`` becomes the resource's id, static values
are passed as written, up to ``MaximumAutomaticAttempts`` attempts per resource, and the
``ErrorPercentage`` execution control stops the round when too many resources fail.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_aws.app_model import CHANGE_NOTIFICATION, SCHEDULED_NOTIFICATION
from local_aws.automation import AutomationError
from local_aws.intrinsics import TemplateError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from local_aws.app_model import ConfigRuleSpec, GuardStack, RemediationSpec
    from local_aws.automation import AutomationExecution, AutomationService
    from local_aws.clients import Aws
    from local_aws.deploy import Deployment
    from local_aws.lambda_runner import Invocation, LambdaRunner

VPC_RESOURCE_TYPE = "AWS::EC2::VPC"
FLOW_LOG_RESOURCE_TYPE = "AWS::EC2::FlowLog"
_CHANGE_TYPES = {"ResourceDiscovered": "CREATE", "OK": "UPDATE"}  # anything else: DELETE
COMPLIANCE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
DEFAULT_ERROR_PERCENTAGE = 50  # Config's default for SsmControls.ErrorPercentage


@dataclass(frozen=True)
class Evaluation:
    """One evaluation result as ``GetComplianceDetailsByConfigRule`` returns it."""

    resource_id: str
    resource_type: str
    compliance_type: str
    annotation: str
    ordering_timestamp: dt.datetime


@dataclass
class Remediation:
    """The remediation of one resource: every attempt and how it ended."""

    resource_id: str
    parameters: dict[str, list[str]]
    executions: list[AutomationExecution] = field(default_factory=list)
    skipped_reason: str | None = None

    @property
    def succeeded(self) -> bool:
        return bool(self.executions) and self.executions[-1].succeeded

    @property
    def failure_message(self) -> str | None:
        if self.skipped_reason:
            return self.skipped_reason
        if self.executions and not self.executions[-1].succeeded:
            return self.executions[-1].failure_message
        return None


def camel_case(value: Any) -> Any:
    """An EC2 API structure with Config's key style (``VpcId`` -> ``vpcId``)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: camel_case(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_case(item) for item in value]
    return value


def vpc_configuration_item(
    vpc: Mapping[str, Any] | None,
    *,
    vpc_id: str,
    status: str,
    account_id: str,
    region: str,
    partition: str,
    capture_time: dt.datetime,
    state_id: int,
) -> dict[str, Any]:
    """A configuration item (record version 1.3) for a VPC, as Config records it."""
    tags = {tag["Key"]: tag["Value"] for tag in (vpc or {}).get("Tags", [])}
    configuration = None
    if vpc is not None:
        configuration = camel_case({key: value for key, value in vpc.items() if key != "Tags"})
        configuration["tags"] = [{"key": key, "value": value} for key, value in tags.items()]
    return {
        "relatedEvents": [],
        "relationships": [],
        "configuration": configuration,
        "supplementaryConfiguration": {},
        "tags": tags,
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": _timestamp(capture_time),
        "configurationStateId": state_id,
        "awsAccountId": account_id,
        "configurationItemStatus": status,
        "resourceType": VPC_RESOURCE_TYPE,
        "resourceId": vpc_id,
        "resourceName": tags.get("Name"),
        "ARN": f"arn:{partition}:ec2:{region}:{account_id}:vpc/{vpc_id}",
        "awsRegion": region,
        "availabilityZone": "Multiple Availability Zones",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": None,
    }


def notification_item(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded item (GetResourceConfigHistory's shape) as a change notification carries it."""
    text = recorded.get("configuration")
    capture = recorded["configurationItemCaptureTime"]
    moment = (
        capture if isinstance(capture, dt.datetime) else dt.datetime.fromtimestamp(capture, dt.UTC)
    )
    return {
        "relatedEvents": list(recorded.get("relatedEvents", [])),
        "relationships": list(recorded.get("relationships", [])),
        "configuration": json.loads(text) if text else None,
        "supplementaryConfiguration": dict(recorded.get("supplementaryConfiguration", {})),
        "tags": dict(recorded.get("tags", {})),
        "configurationItemVersion": recorded.get("version", "1.3"),
        "configurationItemCaptureTime": _timestamp(moment),
        "configurationStateId": int(recorded["configurationStateId"]),
        "awsAccountId": recorded["accountId"],
        "configurationItemStatus": recorded["configurationItemStatus"],
        "resourceType": recorded["resourceType"],
        "resourceId": recorded["resourceId"],
        "resourceName": recorded.get("resourceName"),
        "ARN": recorded["arn"],
        "awsRegion": recorded["awsRegion"],
        "availabilityZone": recorded.get("availabilityZone", "Regional"),
        "configurationStateMd5Hash": "",
        "resourceCreationTime": None,
    }


def rule_event(
    invoking_event: Mapping[str, Any],
    *,
    rule: ConfigRuleSpec,
    deployment: Deployment,
    account_id: str,
    execution_role_arn: str,
    result_token: str,
    event_left_scope: bool = False,
) -> dict[str, Any]:
    """The event Config sends a custom rule's function."""
    event: dict[str, Any] = {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking_event),
        "resultToken": result_token,
        "eventLeftScope": event_left_scope,
        "executionRoleArn": execution_role_arn,
        "configRuleArn": deployment.rule_arn,
        "configRuleName": deployment.rule_name,
        "configRuleId": deployment.rule_id,
        "accountId": account_id,
        "evaluationMode": "DETECTIVE",
    }
    if rule.input_parameters:
        event["ruleParameters"] = json.dumps(rule.input_parameters)
    return event


def change_invoking_event(
    configuration_item: Mapping[str, Any], change_type: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "configurationItemDiff": {"changedProperties": {}, "changeType": change_type},
        "configurationItem": dict(configuration_item),
        "notificationCreationTime": _timestamp(now),
        "messageType": CHANGE_NOTIFICATION,
        "recordVersion": "1.3",
    }


def scheduled_invoking_event(account_id: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "awsAccountId": account_id,
        "notificationCreationTime": _timestamp(now),
        "messageType": SCHEDULED_NOTIFICATION,
        "recordVersion": "1.0",
    }


def in_scope(
    rule: ConfigRuleSpec, resource_type: str, resource_id: str, tags: Mapping[str, str]
) -> bool:
    """True when the rule's scope covers the resource."""
    if rule.resource_types and resource_type not in rule.resource_types:
        return False
    if rule.compliance_resource_id and resource_id != rule.compliance_resource_id:
        return False
    if rule.tag_key:
        if rule.tag_key not in tags:
            return False
        if rule.tag_value and tags[rule.tag_key] != rule.tag_value:
            return False
    return True


def remediation_parameters(spec: RemediationSpec, resource_id: str) -> dict[str, list[str]]:
    """The document parameters Config passes for one resource."""
    parameters = {}
    for name, value in spec.parameters.items():
        if value.resource_value is not None:
            if value.resource_value != "RESOURCE_ID":
                raise TemplateError(f"remediation parameter {name}: unknown {value.resource_value}")
            parameters[name] = [resource_id]
        else:
            parameters[name] = list(value.static_values)
    return parameters


class ConfigService:
    """AWS Config for one custom rule, its function and its remediation."""

    def __init__(
        self,
        stack: GuardStack,
        deployment: Deployment,
        *,
        runner: LambdaRunner,
        automation: AutomationService,
        admin: Aws,
        account_id: str,
        partition: str,
        issue_result_token: Callable[[str], str],
        recorded_items: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self._stack = stack
        self._recorded_items = recorded_items or list
        self._delivered = 0
        self._issue_result_token = issue_result_token
        self._deployment = deployment
        self._runner = runner
        self._automation = automation
        self._admin = admin
        self._account_id = account_id
        self._partition = partition
        self._state_ids: dict[str, int] = {}
        self.result_tokens: list[str] = []
        self.execution_role_arn = (
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/"
            "config.amazonaws.com/AWSServiceRoleForConfig"
        )

    @property
    def rule(self) -> ConfigRuleSpec:
        return self._stack.rule

    # -- notifications ------------------------------------------------------------------------

    def notify_change(self, vpc_id: str, status: str = "ResourceDiscovered") -> Invocation | None:
        """Record the VPC's current state and send the change notification, if in scope.

        Returns None when Config would not invoke the rule (the VPC is not in its scope).
        """
        self._require_trigger(CHANGE_NOTIFICATION)
        now = dt.datetime.now(dt.UTC)
        vpc = None if status.startswith("ResourceDeleted") else self._describe_vpc(vpc_id)
        tags = {tag["Key"]: tag["Value"] for tag in (vpc or {}).get("Tags", [])}
        if vpc is not None and not in_scope(self.rule, VPC_RESOURCE_TYPE, vpc_id, tags):
            return None
        self._state_ids[vpc_id] = self._state_ids.get(vpc_id, 0) + 1
        item = vpc_configuration_item(
            vpc,
            vpc_id=vpc_id,
            status=status,
            account_id=self._account_id,
            region=self._admin.region,
            partition=self._partition,
            capture_time=now,
            state_id=int(now.timestamp() * 1000) + self._state_ids[vpc_id],
        )
        change_type = _CHANGE_TYPES.get(status, "DELETE")
        return self._invoke(change_invoking_event(item, change_type, now))

    def notify_recorded_changes(self) -> list[Invocation]:
        """Send a notification for each flow log item the recorder added since the last call.

        Items of types outside the rule's scope are passed over, as Config does.
        """
        self._require_trigger(CHANGE_NOTIFICATION)
        items = self._recorded_items()
        pending, self._delivered = items[self._delivered :], len(items)
        invocations = []
        for recorded in pending:
            item = notification_item(recorded)
            if not in_scope(self.rule, item["resourceType"], item["resourceId"], item["tags"]):
                continue
            change_type = _CHANGE_TYPES.get(item["configurationItemStatus"], "DELETE")
            now = dt.datetime.now(dt.UTC)
            invocations.append(self._invoke(change_invoking_event(item, change_type, now)))
        return invocations

    def skip_recorded_changes(self) -> None:
        """Mark every item recorded so far as delivered (changes made before the rule existed)."""
        self._delivered = len(self._recorded_items())

    def notify_scheduled(self) -> Invocation:
        """Send the periodic notification the rule's ``MaximumExecutionFrequency`` schedules."""
        self._require_trigger(SCHEDULED_NOTIFICATION)
        now = dt.datetime.now(dt.UTC)
        return self._invoke(scheduled_invoking_event(self._account_id, now))

    def _invoke(self, invoking_event: Mapping[str, Any]) -> Invocation:
        token = self._issue_result_token(self._deployment.rule_name)
        self.result_tokens.append(token)
        event = rule_event(
            invoking_event,
            rule=self.rule,
            deployment=self._deployment,
            account_id=self._account_id,
            execution_role_arn=self.execution_role_arn,
            result_token=token,
        )
        return self._runner.invoke(event)

    def _require_trigger(self, message_type: str) -> None:
        if message_type not in self.rule.message_types:
            raise TemplateError(
                f"rule {self.rule.name} is not triggered by {message_type} "
                f"(its triggers: {', '.join(sorted(self.rule.message_types)) or 'none'})"
            )

    def _describe_vpc(self, vpc_id: str) -> dict[str, Any]:
        vpcs = self._admin.ec2().describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        return dict(vpcs[0])

    # -- evaluations --------------------------------------------------------------------------

    def evaluations(self) -> dict[str, Evaluation]:
        """The rule's current evaluation of every resource, by resource id."""
        config = self._admin.config()
        found: dict[str, Evaluation] = {}
        kwargs: dict[str, Any] = {
            "ConfigRuleName": self._deployment.rule_name,
            "ComplianceTypes": list(COMPLIANCE_TYPES),
            "Limit": 100,
        }
        while True:
            page = config.get_compliance_details_by_config_rule(**kwargs)
            for result in page.get("EvaluationResults", []):
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                found[qualifier["ResourceId"]] = Evaluation(
                    resource_id=qualifier["ResourceId"],
                    resource_type=qualifier["ResourceType"],
                    compliance_type=result["ComplianceType"],
                    annotation=result.get("Annotation", ""),
                    ordering_timestamp=result["EvaluationResultIdentifier"]["OrderingTimestamp"],
                )
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]

    # -- remediation --------------------------------------------------------------------------

    def remediate(self, resource_ids: Iterable[str]) -> list[Remediation]:
        """Run the remediation for each resource, in order, as automatic remediation does."""
        spec = self._stack.remediation
        if spec is None:
            raise TemplateError(f"rule {self.rule.name} has no remediation configuration")
        if spec.target_type != "SSM_DOCUMENT":
            raise TemplateError(f"remediation target type {spec.target_type} is not SSM_DOCUMENT")
        targets = list(resource_ids)
        error_percentage = spec.error_percentage or DEFAULT_ERROR_PERCENTAGE
        allowed_errors = math.floor(len(targets) * error_percentage / 100)
        errors = 0
        remediations = []
        for resource_id in targets:
            remediation = Remediation(resource_id, remediation_parameters(spec, resource_id))
            remediations.append(remediation)
            if errors > allowed_errors:
                remediation.skipped_reason = (
                    f"not run: {errors} of {len(targets)} remediations failed, more than the "
                    f"ErrorPercentage of {error_percentage}% allows"
                )
                continue
            for _ in range(spec.maximum_automatic_attempts):
                try:
                    execution = self._automation.start_automation_execution(
                        spec.document_name, remediation.parameters
                    )
                except AutomationError as error:
                    remediation.skipped_reason = f"StartAutomationExecution refused: {error}"
                    break
                remediation.executions.append(execution)
                if execution.succeeded:
                    break
            if not remediation.succeeded:
                errors += 1
        return remediations


def _timestamp(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )

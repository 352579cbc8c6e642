"""The member side of the central archive: flow-log groups forwarded to the log-archive account.

One account-level subscription filter policy (``AWS::Logs::AccountPolicy``, type
``SUBSCRIPTION_FILTER_POLICY``) per account and Region sends the flow-log records of every log
group to the CloudWatch Logs destination ``centralLogDestinationArn`` (CloudWatch Logs API
Reference, PutAccountPolicy: the ``DestinationArn`` may be "A logical destination in a different
account created with PutDestination, for cross-account delivery", with no ``RoleArn``).

Which log groups: for this policy type "the only supported selectionCriteria filter is
LogGroupName NOT IN []" (exact names), so the policy covers every log group of the account
except the ones listed, including groups created later. Two narrowings keep it to flow logs:

- the filter pattern matches only records in the format the runbook creates flow logs with
  (``logFormat``; by default the default format's 14 fields, version 2, an ENI id third);
  events of other log groups do not match and are not sent;
- the stack's own log group (the rule's Lambda) is excluded by name.

What it cannot do: tell a flow-log group from another group whose lines have the same shape, or
forward a flow log in another format than ``logFormat`` (its records have other fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.settings.account import LOG_FIELD, REGION_PLACEHOLDER, destination_arn_in

if TYPE_CHECKING:
    from collections.abc import Sequence

POLICY_NAME: Final = "VpcFlowLogsGuardCentralArchive"
"""One subscription filter policy per account and Region (PutAccountPolicy quota)."""
POLICY_TYPE: Final = "SUBSCRIPTION_FILTER_POLICY"
DEFAULT_FORMAT_FIELDS: Final = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)  # fmt: skip
"""The default flow-log format's fields, in order (VPC User Guide, "Flow log records")."""
FILTER_PATTERN_MAX_CHARS: Final = 1024
"""CloudWatch Logs' ``FilterPattern`` length limit (its API reference; botocore's model)."""


def flow_log_records(log_format: str) -> str:
    """A space-delimited filter pattern for the records of flow logs in ``log_format`` (the
    runbook's ``LogFormat``; empty for the default format).

    An event matches when it has exactly the format's fields, in order, and its
    ``interface-id`` (if the format has one) is an ENI id; in the default format, also when its
    version is 2 (a custom format's version is the highest of its fields', VPC User Guide).
    NODATA and SKIPDATA records match too: a field without a value is written as ``-``.
    """
    custom = LOG_FIELD.findall(log_format)
    fields = custom or DEFAULT_FORMAT_FIELDS
    constraints = {"interface-id": 'interface_id="eni-*"'}
    if not custom:
        constraints["version"] = "version=2"
    pattern = "[" + ", ".join(constraints.get(f, f.replace("-", "_")) for f in fields) + "]"
    if len(pattern) > FILTER_PATTERN_MAX_CHARS:
        raise ValueError(
            f"setting 'logFormat' has {len(fields)} fields: the filter pattern forwarding its "
            f"records would be {len(pattern)} characters long, and CloudWatch Logs allows "
            f"{FILTER_PATTERN_MAX_CHARS}"
        )
    return pattern


@dataclass(frozen=True)
class LogForwardingProps:
    destination_arn: str
    """``centralLogDestinationArn``: a literal Region, or ``{region}`` for the stack's own."""
    excluded_log_group_names: Sequence[str]
    """Exact names (tokens allowed) of the stack's own log groups, never forwarded."""
    log_format: str = ""
    """The runbook's ``LogFormat``: the records to forward are in it."""


class LogForwarding(Construct):
    """The account-level subscription filter policy to the central destination."""

    def __init__(self, scope: Construct, construct_id: str, props: LogForwardingProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.destination_arn = destination_arn_in(props.destination_arn, stack.region)
        # "The sending account's log groups and the destination must be in the same AWS
        # Region" (CloudWatch Logs User Guide, account-level subscriptions with Firehose, step
        # 3). A literal Region is checked when the stack is deployed: the stack has no Region
        # at synth time (one template for every Region of the StackSet).
        if REGION_PLACEHOLDER not in props.destination_arn:
            region = props.destination_arn.split(":")[3]
            cdk.CfnRule(
                self,
                "SameRegionAsDestination",
                assertions=[
                    cdk.CfnRuleAssertion(
                        assert_=cdk.Fn.condition_equals(cdk.Aws.REGION, region),
                        assert_description=(
                            f"centralLogDestinationArn is in {region}: deploy this stack in "
                            f"{region}, or give the ARN with {REGION_PLACEHOLDER}"
                        ),
                    )
                ],
            )
        self.policy = logs.CfnAccountPolicy(
            self,
            "Policy",
            policy_name=POLICY_NAME,
            policy_type=POLICY_TYPE,
            scope="ALL",
            policy_document=stack.to_json_string(
                {
                    "DestinationArn": self.destination_arn,
                    "FilterPattern": flow_log_records(props.log_format),
                }
            ),
            selection_criteria=selection_criteria(props.excluded_log_group_names),
        )


def selection_criteria(excluded: Sequence[str]) -> str:
    """``LogGroupName NOT IN ["a", "b"]``; a name may be a token (CloudFormation resolves it)."""
    return "LogGroupName NOT IN " + json.dumps(list(excluded))

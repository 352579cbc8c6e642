"""The AWS Config custom rule: its Lambda, the Lambda's log group and role, and the rule itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.build.lambda_bundling import PythonPackage, package_code
from stacks.settings.account import LOG_RETENTION_DAYS

RULE_NAME: Final = "vpc-flow-logs-enabled"
RULE_PACKAGE: Final = Path(__file__).resolve().parents[2] / "lambdas" / "vpc_flow_logs_rule"
HANDLER: Final = "vpc_flow_logs_rule.handler.lambda_handler"
RUNTIME: Final = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
SERVICE_NAME: Final = "vpc-flow-logs-rule"
# A scheduled run pages through every VPC and flow log of the region (1,000 a page), looks up
# the referenced log groups 50 a call, reads the rule's results 100 a page and reports what
# changed, 100 evaluations a call: for 10,000 VPCs about 450 requests at most, most to
# CloudWatch Logs and AWS Config, whose APIs throttle at a few requests per second (retried
# with backoff), so a few minutes at worst. Ten minutes leaves headroom and stays under
# Lambda's 15-minute ceiling, so a stuck run still ends and fails loudly.
TIMEOUT: Final = cdk.Duration.minutes(10)
MEMORY_MB: Final = 256

_RETENTION: Final = dict(zip(LOG_RETENTION_DAYS, list(logs.RetentionDays)[:-1], strict=True))
"""Days -> ``logs.RetentionDays`` (the enum lists the same values in order, then INFINITE)."""


@dataclass(frozen=True)
class VpcFlowLogsRuleProps:
    """What the rule needs from the settings."""

    input_parameters: dict[str, str]
    """The rule's input parameters (names and string values as the rule expects them)."""
    maximum_execution_frequency: config.MaximumExecutionFrequency
    log_retention_days: int
    """Retention of the Lambda's own log group; one of CloudWatch Logs' values."""
    log_level: str = "INFO"
    code: lambda_.Code | None = field(default=None)
    """The Lambda's code; default: the bundled ``lambdas/vpc_flow_logs_rule`` package."""
    reads_forwarding: bool = False
    """The rule checks that flow-log groups forward to the central destination
    (``CentralLogDestinationArn``): it reads the account's subscription filter policy."""


class VpcFlowLogsRule(Construct):
    """A Config custom rule over ``AWS::EC2::VPC`` and ``AWS::EC2::FlowLog``, evaluated on
    change and on a schedule; it reports evaluations for VPCs only.

    The function's role is written here statement by statement. ``config.CustomRule`` would
    attach the AWS-managed ``AWSConfigRulesExecutionRole`` policy (read access to every Config
    resource and the delivery bucket); handing it the role through ``without_policy_updates()``
    keeps that policy out, which is what the method is for.
    """

    def __init__(self, scope: Construct, construct_id: str, props: VpcFlowLogsRuleProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.reads_forwarding = props.reads_forwarding

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=_RETENTION[props.log_retention_days],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the AWS Config rule {RULE_NAME}: reads VPCs, flow logs and "
            "log groups, reports evaluations.",
            inline_policies={
                "EvaluateVpcFlowLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="WriteOwnLogs",
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[
                                stack.format_arn(
                                    service="logs",
                                    resource="log-group",
                                    resource_name=f"{self.log_group.log_group_name}:log-stream:*",
                                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                                )
                            ],
                        ),
                        iam.PolicyStatement(
                            sid="ReadVpcsFlowLogsAndLogGroups",
                            actions=[
                                "ec2:DescribeFlowLogs",
                                "ec2:DescribeVpcs",
                                "logs:DescribeLogGroups",
                            ],
                            resources=["*"],
                        ),
                        iam.PolicyStatement(
                            sid="ReportEvaluations",
                            actions=["config:PutEvaluations"],
                            resources=["*"],
                        ),
                        # A deleted flow log's VPC, from the flow log's configuration history.
                        # The action takes no resource ARN (resource type and id are request
                        # parameters), so "*" is the narrowest grant.
                        iam.PolicyStatement(
                            sid="ReadFlowLogHistory",
                            actions=["config:GetResourceConfigHistory"],
                            resources=["*"],
                        ),
                        *(forwarding_statements(stack) if props.reads_forwarding else []),
                    ]
                )
            },
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description="AWS Config rule: every VPC has an active, delivering flow log with "
            "enough retention.",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=props.code if props.code is not None else rule_code(),
            role=self.role.without_policy_updates(),
            log_group=self.log_group,
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_LOG_LEVEL": props.log_level,
            },
        )

        self.rule = config.CustomRule(
            self,
            "Rule",
            config_rule_name=RULE_NAME,
            description="Each VPC has active flow logs that cover the required traffic, "
            "deliver successfully, go to an allowed destination and keep logs long enough.",
            lambda_function=self.function,
            configuration_changes=True,
            periodic=True,
            maximum_execution_frequency=props.maximum_execution_frequency,
            # Flow logs too: creating or deleting one does not change the VPC's configuration
            # item, so only the flow log's own notification tells the rule in minutes.
            rule_scope=config.RuleScope.from_resources(
                [config.ResourceType.EC2_VPC, config.ResourceType.EC2_FLOW_LOG]
            ),
            input_parameters=dict(props.input_parameters),
        )

        # The L2 constructs add DependsOn entries that Ref/GetAtt already imply (function ->
        # role, rule -> function); cfn-lint warns about them (W3005). The rule's DependsOn on
        # the Lambda permission is the one that matters: Config checks it may invoke the
        # function when the rule is created.
        for resource in (self.function, self.rule):
            _ignore_cfn_lint(resource, "W3005")

        # Separate from the role's inline policy: the rule's ARN holds an id Config generates,
        # and the rule depends on the function, so the function's role cannot refer to it.
        # Scheduled runs read the rule's results to record only what changed; if Config invokes
        # the function before this policy exists, Lambda's asynchronous retries cover it.
        self.read_own_compliance = iam.Policy(
            self,
            "ReadOwnCompliance",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadOwnEvaluations",
                    actions=["config:GetComplianceDetailsByConfigRule"],
                    resources=[self.rule.config_rule_arn],
                )
            ],
        )


def forwarding_statements(stack: cdk.Stack) -> list[iam.PolicyStatement]:
    """What DescribeAccountPolicies needs for subscription filter policies: "To see
    subscription filter policies, you must have the logs:DescribeSubscriptionFilters and
    logs:DescribeAccountPolicies permissions" (CloudWatch Logs API Reference). The service
    authorization reference gives DescribeAccountPolicies no resource type ("*") and
    DescribeSubscriptionFilters the log-group type: this account's and Region's groups."""
    return [
        iam.PolicyStatement(
            sid="ReadAccountSubscriptionPolicy",
            actions=["logs:DescribeAccountPolicies"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="ReadSubscriptionFilters",
            actions=["logs:DescribeSubscriptionFilters"],
            resources=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        ),
    ]


def _ignore_cfn_lint(construct: Construct, *checks: str) -> None:
    """Tell cfn-lint to skip ``checks`` on the construct's CloudFormation resource only."""
    resource = construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": list(checks)}})


def rule_code() -> lambda_.Code:
    """The rule package, bundled with its requirements for the function's runtime."""
    return package_code(PythonPackage(RULE_PACKAGE, RUNTIME, ARCHITECTURE))

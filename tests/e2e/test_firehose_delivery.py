"""Direct Firehose delivery, end to end: two accounts, both stacks from one synth.

The app is synthesized once with the organization's settings (:data:`FIREHOSE_CONTEXT`): the
log-archive stack with its Firehose stream and destination account role
(``firehoseDelivery=true``), and the member stack delivering there (``destination=
kinesis-data-firehose``, the two outputs as an operator copies them, the Region as ``{region}``).
The embedded AWS deploys the log-archive stack into a second account
(:data:`LOG_ARCHIVE_ACCOUNT`), then the member stack, and refuses to start if the member's
remediation names a stream or role the log-archive stack does not create. Then the loop:

1. a VPC without flow log: the rule says NON_COMPLIANT;
2. remediation (the runbook, through the local Automation) gives it a flow log to the stream,
   with the stack's source role and the stream account's role, and nothing else: no delivery
   role, no log group; the flow log's notification turns the VPC COMPLIANT;
3. another VPC whose flow log goes to another stream stays NON_COMPLIANT: the rule requires the
   stack's ``FirehoseArn``.

IAM: the member roles' recorded requests are evaluated with the template's policies
(``tests/e2e/least_privilege.py``), the runbook's ``iam:PassRole`` of the source role with its
``iam:PassedToService`` and ``iam:AssociatedResourceArn`` among them; the same request for a VPC
of another account, or to another service, must be denied.

Not here (moto cannot): VPC Flow Logs assuming the source role, then the destination role, and
delivering records into the stream; trust policies and their condition keys (docs/organization.md,
"Direct Firehose delivery": not verified on real AWS).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

import pytest

from local_aws.run import LocalDeployment, LogArchiveAccount
from local_aws.scenario import COMPLIANT, NON_COMPLIANT
from local_aws.synth import synthesize
from tests.e2e.least_privilege import (
    FIGURES,
    evaluate,
    recorded_requests,
    role_policies,
    template_stack,
)
from tests.e2e.two_accounts import (
    LOG_ARCHIVE_ACCOUNT,
    LOG_ARCHIVE_STACK,
    MEMBER_STACK,
    ORGANIZATION_ID,
    REGION,
)
from tests.support.iam_simulator import ALLOWED, IMPLICITLY_DENIED

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from mypy_boto3_ec2.type_defs import FlowLogTypeDef

    from local_aws.config_service import Evaluation, Remediation
    from local_aws.iam_requests import IamRequest

pytestmark = pytest.mark.e2e

STREAM_SETTING: Final = (
    f"arn:aws:firehose:{{region}}:{LOG_ARCHIVE_ACCOUNT}:deliverystream/{LOG_ARCHIVE_STACK}-FlowLogs"
)
DESTINATION_ROLE_SETTING: Final = (
    f"arn:aws:iam::{LOG_ARCHIVE_ACCOUNT}:role/AWSLogDeliveryFirehoseCrossAccountRole-{{region}}"
)
FIREHOSE_CONTEXT: Final = {
    "organizationId": ORGANIZATION_ID,
    "firehoseDelivery": "true",
    "destination": "kinesis-data-firehose",
    "centralFirehoseArn": STREAM_SETTING,
    "centralFirehoseRoleArn": DESTINATION_ROLE_SETTING,
}
"""The log-archive stack's outputs CentralFirehoseArn and CentralFirehoseRoleArn, the Region as
``{region}`` (docs/organization.md, "Direct Firehose delivery")."""
OTHER_STREAM: Final = f"arn:aws:firehose:{REGION}:{LOG_ARCHIVE_ACCOUNT}:deliverystream/other"


@dataclass
class FirehoseRun:
    local: LocalDeployment
    vpc_id: str
    elsewhere_vpc_id: str
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    remediation: Remediation | None = None
    flow_logs: list[FlowLogTypeDef] = field(default_factory=list)
    """The remediated VPC's flow logs, as DescribeFlowLogs lists them."""
    seconds: float = 0.0


@pytest.fixture(scope="session")
def firehose_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``npx cdk synth`` with the organization's Firehose settings, once: both stacks."""
    return synthesize(tmp_path_factory.mktemp("firehose") / "cdk.out", FIREHOSE_CONTEXT)


@pytest.fixture(scope="module")
def firehose_run(firehose_assembly: Path) -> Iterator[FirehoseRun]:
    log_archive = LogArchiveAccount(LOG_ARCHIVE_STACK, LOG_ARCHIVE_ACCOUNT)
    with LocalDeployment(
        firehose_assembly, stack_name=MEMBER_STACK, region=REGION, log_archive=log_archive
    ) as local:
        started = time.monotonic()
        ec2 = local.admin.ec2()
        config = local.config
        vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        elsewhere = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
        run = FirehoseRun(local, vpc_id, elsewhere)

        # 1. Config discovers the VPC
        config.notify_change(vpc_id)
        run.evaluations["discovered"] = config.evaluations()[vpc_id]

        # 2. remediation, and the new flow log's notification
        (run.remediation,) = config.remediate([vpc_id])
        config.notify_recorded_changes()
        run.evaluations["remediated"] = config.evaluations()[vpc_id]
        run.flow_logs = ec2.describe_flow_logs(
            Filters=[{"Name": "resource-id", "Values": [vpc_id]}]
        )["FlowLogs"]

        # 3. someone else's flow log of the other VPC, to another stream
        ec2.create_flow_logs(
            ResourceIds=[elsewhere],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="kinesis-data-firehose",
            LogDestination=OTHER_STREAM,
        )
        config.notify_change(elsewhere)
        run.evaluations["other stream"] = config.evaluations()[elsewhere]
        run.seconds = time.monotonic() - started
        yield run


def remediation_parameter(run: FirehoseRun, name: str) -> str:
    remediation = run.local.stack.remediation
    assert remediation is not None
    (value,) = remediation.parameters[name].static_values
    return value


# -- the two stacks, deployed from the one assembly --------------------------------------------


def test_the_member_delivers_to_the_stream_and_role_the_log_archive_stack_outputs(
    firehose_run: FirehoseRun,
) -> None:
    archive = firehose_run.local.log_archive
    stream = remediation_parameter(firehose_run, "FirehoseArn")
    destination_role = remediation_parameter(firehose_run, "DeliverCrossAccountRole")

    assert stream == archive.outputs["CentralFirehoseArn"] == STREAM_SETTING.format(region=REGION)
    assert stream in archive.streams
    assert destination_role == archive.outputs["CentralFirehoseRoleArn"]
    assert destination_role in archive.roles
    assert firehose_run.local.stack.rule.input_parameters["FirehoseArn"] == stream
    # and the stream is deployed in the log-archive account, the role there too
    admin = firehose_run.local.log_archive_admin
    described = admin.client("firehose").describe_delivery_stream(
        DeliveryStreamName=stream.rsplit("/", 1)[1]
    )
    assert described["DeliveryStreamDescription"]["DeliveryStreamARN"] == stream
    role_name = destination_role.rsplit("/", 1)[1]
    assert admin.iam().get_role(RoleName=role_name)["Role"]["Arn"] == destination_role


# -- the loop ----------------------------------------------------------------------------------


def test_remediation_gives_the_vpc_a_flow_log_to_the_stream_and_the_rule_counts_it(
    firehose_run: FirehoseRun,
) -> None:
    types = {step: e.compliance_type for step, e in firehose_run.evaluations.items()}
    remediation = firehose_run.remediation

    assert types == {
        "discovered": NON_COMPLIANT,
        "remediated": COMPLIANT,
        "other stream": NON_COMPLIANT,
    }
    assert remediation is not None
    assert remediation.succeeded, remediation.failure_message
    # The runbook went straight to the flow log: no delivery role, no log group
    (execution,) = remediation.executions
    assert [step.name for step in execution.steps] == [
        "CheckInput",
        "ChooseDestination",
        "FlowLog",
        "Verify",
    ]
    stream = remediation_parameter(firehose_run, "FirehoseArn")
    source_role = remediation_parameter(firehose_run, "DeliverLogsPermissionArn")
    assert execution.outputs == {
        "Verify.FlowLogId": firehose_run.flow_logs[0]["FlowLogId"],
        "Verify.Destination": stream,
        "Verify.LogGroupName": "",
        "Verify.DeliveryRoleArn": source_role,
    }
    (flow_log,) = firehose_run.flow_logs
    assert flow_log["LogDestinationType"] == "kinesis-data-firehose"
    assert flow_log["LogDestination"] == stream
    assert flow_log["DeliverLogsPermissionArn"] == source_role
    assert flow_log["DeliverCrossAccountRole"] == remediation_parameter(
        firehose_run, "DeliverCrossAccountRole"
    )
    assert source_role in firehose_run.local.stack.roles  # the stack's own source role
    iam = firehose_run.local.admin.iam()
    assert [
        r["RoleName"] for r in iam.list_roles()["Roles"] if "DeliveryRole" in r["RoleName"]
    ] == []
    assert (
        firehose_run.local.admin.logs().describe_log_groups(
            logGroupNamePrefix="/aws/vpc-flow-logs/"
        )["logGroups"]
        == []
    )
    other = firehose_run.evaluations["other stream"].annotation
    assert OTHER_STREAM in other
    assert stream in other


# -- least privilege by execution --------------------------------------------------------------


def passes_of_the_source_role(requests: list[IamRequest]) -> list[IamRequest]:
    return [r for r in requests if r.action == "iam:PassRole" and r.operation == "CreateFlowLogs"]


def test_the_member_roles_requests_are_allowed_by_the_templates_policies(
    firehose_run: FirehoseRun, firehose_assembly: Path
) -> None:
    local = firehose_run.local
    requests, unmapped = recorded_requests(local)
    policies = role_policies(local, template_stack(local, firehose_assembly))

    verdict = evaluate(requests, policies, expect=ALLOWED)

    assert unmapped == [], "\n".join(unmapped)
    assert verdict.failures == [], verdict.report()
    actions = {request.action for request, _ in verdict.rows}
    assert {"ec2:CreateFlowLogs", "iam:PassRole", "logs:CreateLogDelivery"} <= actions
    assert not {a for a in actions if a.startswith("iam:") and a != "iam:PassRole"}
    (passed,) = passes_of_the_source_role(requests)
    assert passed.resource == remediation_parameter(firehose_run, "DeliverLogsPermissionArn")
    assert passed.context["iam:PassedToService"] == "delivery.logs.amazonaws.com"
    assert passed.context["iam:AssociatedResourceArn"] == (
        f"arn:aws:ec2:{REGION}:{local.stack.template.pseudo.account_id}:vpc/{firehose_run.vpc_id}"
    )
    FIGURES.append(
        f"Firehose delivery, IAM by execution: {len(verdict.rows)} IAM requests of the member "
        f"roles' {len(local.requests.by_roles())} recorded calls, all allowed; the loop "
        f"{firehose_run.seconds:.1f} s"
    )


def test_passing_the_source_role_elsewhere_is_denied(
    firehose_run: FirehoseRun, firehose_assembly: Path
) -> None:
    # Given the runbook's own PassRole of the run, changed in one condition each
    local = firehose_run.local
    requests, _ = recorded_requests(local)
    (passed,) = passes_of_the_source_role(requests)
    account = local.stack.template.pseudo.account_id
    variants = [
        replace(passed, context={**passed.context, "iam:PassedToService": service})
        for service in ("vpc-flow-logs.amazonaws.com", "ec2.amazonaws.com")
    ] + [
        replace(passed, context={**passed.context, "iam:AssociatedResourceArn": resource})
        for resource in (
            f"arn:aws:ec2:{REGION}:444455556666:vpc/{firehose_run.vpc_id}",
            f"arn:aws:ec2:eu-west-1:{account}:vpc/{firehose_run.vpc_id}",
            f"arn:aws:ec2:{REGION}:{account}:subnet/subnet-0123456789abcdef0",
        )
    ]

    # Then the template's policies refuse every one
    verdict = evaluate(
        variants,
        role_policies(local, template_stack(local, firehose_assembly)),
        expect=IMPLICITLY_DENIED,
    )

    assert verdict.failures == [], verdict.report()
    assert len(verdict.rows) == 5

"""The central CloudWatch Logs archive, end to end: two accounts, both stacks from one synth.

The app is synthesized once with the organization's settings (:data:`ARCHIVE_CONTEXT`): the
log-archive stack with its CloudWatch Logs destination, and the member stack forwarding to it.
The embedded AWS deploys the log-archive stack's bucket, Firehose stream, destination (with its
access policy) and both roles into a second account (:data:`LOG_ARCHIVE_ACCOUNT`), then the member
stack, with its account-level subscription filter policy, as the demo does. Then the loop:

1. a VPC without flow log: the rule says NON_COMPLIANT;
2. remediation (the runbook, through the local Automation) gives it a flow log and its log
   group; the flow log's notification turns the VPC COMPLIANT, the policy forwarding the group;
3. a flow-log record written to that group (what VPC Flow Logs would write: moto delivers no
   flow logs) reaches the central bucket through the destination and the stream, as an object
   under ``CloudWatchLogs/account=<member>/region=<region>/year=.../``, GZIP, holding the event;
4. an administrator deletes the account policy: the next scheduled run says NON_COMPLIANT
   ("not forwarded"), and nothing more reaches the archive; restoring the policy makes the next
   run COMPLIANT again and records flow again.

IAM: the member roles' recorded requests are evaluated with the template's policies
(``tests/e2e/least_privilege.py``); the delivery chain the run went through (the deployer's
PutAccountPolicy against the destination's access policy, the destination role's put into the
stream, the Firehose role's writes of the objects it wrote against its policy and the bucket
policy) is built from what the run did and evaluated the same way.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pytest

from local_aws.deploy import put_account_policy
from local_aws.moto_patches import MAX_ANNOTATION_LENGTH
from local_aws.moto_patches.firehose import jq_version
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
from tests.support.iam_simulator import ALLOWED, IMPLICITLY_DENIED, Policies, Request, simulate

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local_aws.app_model import AccountPolicySpec, ArchiveStack
    from local_aws.config_service import Evaluation, Remediation

pytestmark = pytest.mark.e2e

CENTRAL_DESTINATION: Final = (
    f"arn:aws:logs:{{region}}:{LOG_ARCHIVE_ACCOUNT}:destination:{LOG_ARCHIVE_STACK}-CentralArchive"
)
"""What an operator copies from the log-archive stack's output CentralLogDestinationArn, the
Region as ``{region}`` (docs/organization.md, "Member side, as built"); the run checks that it is
that output."""
ARCHIVE_CONTEXT: Final = {
    "organizationId": ORGANIZATION_ID,
    "centralLogDestination": "true",
    "centralLogDestinationArn": CENTRAL_DESTINATION,
}
ENI: Final = "eni-0a1b2c3d4e5f60718"


def flow_log_record(account: str, action: str = "REJECT") -> str:
    """One record in the default flow-log format, version 2 (VPC User Guide, "Flow log records":
    version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start
    end action log-status)."""
    end = int(time.time())
    return f"2 {account} {ENI} 203.0.113.7 10.42.0.5 49152 22 6 3 180 {end - 60} {end} {action} OK"


@dataclass
class ArchiveRun:
    """What the loop did and saw."""

    local: LocalDeployment
    vpc_id: str
    log_group: str
    records: dict[str, str] = field(default_factory=dict)
    """Flow-log records written, by step."""
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    """The VPC's evaluation after each step."""
    archived: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """The log-archive account's objects (``<bucket>/<key>`` -> body) after each step."""
    written_at: dict[str, float] = field(default_factory=dict)
    """When each step's record was written (epoch seconds)."""
    remediation: Remediation | None = None
    seconds: float = 0.0
    """The loop's wall time, deployment excluded."""

    @property
    def archive(self) -> ArchiveStack:
        return self.local.log_archive

    @property
    def member_account(self) -> str:
        return self.local.stack.template.pseudo.account_id

    @property
    def account_policy(self) -> AccountPolicySpec:
        (policy,) = self.local.stack.account_policies
        return policy


@pytest.fixture(scope="session")
def archive_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``npx cdk synth`` with the organization's settings, once: both stacks, one assembly."""
    return synthesize(tmp_path_factory.mktemp("archive") / "cdk.out", ARCHIVE_CONTEXT)


def central_objects(local: LocalDeployment) -> dict[str, bytes]:
    """Every object of the log-archive stack's buckets (``<bucket>/<key>`` -> body), read as
    the log-archive admin."""
    s3 = local.log_archive_admin.s3()
    found = {}
    for bucket in local.log_archive.buckets:
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[f"{bucket}/{item['Key']}"] = body
    return found


def write_flow_log_records(local: LocalDeployment, group: str, *messages: str) -> None:
    """As VPC Flow Logs writes to the flow log's group: a log stream per network interface."""
    logs = local.admin.logs()
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=ENI)
    if not streams["logStreams"]:
        logs.create_log_stream(logGroupName=group, logStreamName=ENI)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=ENI,
        logEvents=[{"timestamp": now, "message": message} for message in messages],
    )


@pytest.fixture(scope="module")
def archive_run(archive_assembly: Path) -> Iterator[ArchiveRun]:
    """The loop, once per module; the embedded AWS stays up for the module's tests."""
    log_archive = LogArchiveAccount(LOG_ARCHIVE_STACK, LOG_ARCHIVE_ACCOUNT)
    with LocalDeployment(
        archive_assembly, stack_name=MEMBER_STACK, region=REGION, log_archive=log_archive
    ) as local:
        started = time.monotonic()
        config = local.config
        vpc_id = local.admin.ec2().create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        run = ArchiveRun(local, vpc_id, log_group="")

        # 1. Config discovers the VPC
        config.notify_change(vpc_id)
        run.evaluations["discovered"] = config.evaluations()[vpc_id]

        # 2. remediation, and the new flow log's notification
        (run.remediation,) = config.remediate([vpc_id])
        run.log_group = run.remediation.executions[-1].outputs["Verify.LogGroupName"]
        config.notify_recorded_changes()
        run.evaluations["remediated"] = config.evaluations()[vpc_id]

        # 3. VPC Flow Logs writes a record (and something that is not one)
        run.records["remediated"] = flow_log_record(run.member_account)
        run.written_at["remediated"] = time.time()
        write_flow_log_records(
            local, run.log_group, run.records["remediated"], '{"level": "INFO", "msg": "not one"}'
        )
        run.archived["remediated"] = central_objects(local)

        # 4. an administrator deletes the account policy; the scheduled run; a record
        policy = run.account_policy
        local.admin.logs().delete_account_policy(
            policyName=policy.name,
            policyType=policy.policy_type,  # type: ignore[arg-type]
        )
        config.notify_scheduled()
        run.evaluations["policy deleted"] = config.evaluations()[vpc_id]
        run.records["policy deleted"] = flow_log_record(run.member_account, "ACCEPT")
        write_flow_log_records(local, run.log_group, run.records["policy deleted"])
        run.archived["policy deleted"] = central_objects(local)

        # 5. the policy restored as the template has it (a stack update); the scheduled run
        put_account_policy(local.admin, policy)
        config.notify_scheduled()
        run.evaluations["policy restored"] = config.evaluations()[vpc_id]
        run.records["policy restored"] = flow_log_record(run.member_account)
        write_flow_log_records(local, run.log_group, run.records["policy restored"])
        run.archived["policy restored"] = central_objects(local)
        run.seconds = time.monotonic() - started
        yield run


def new_objects(run: ArchiveRun, step: str, before: str | None) -> dict[str, bytes]:
    earlier = run.archived[before] if before else {}
    return {key: body for key, body in run.archived[step].items() if key not in earlier}


def archived_messages(body: bytes) -> list[str]:
    """The log events' messages of one archived object (GZIP, one JSON record per line)."""
    lines = gzip.decompress(body).decode().splitlines()
    return [event["message"] for line in lines for event in json.loads(line)["logEvents"]]


# -- the two stacks, deployed from the one assembly --------------------------------------------


def test_the_member_forwards_to_the_destination_the_log_archive_stack_outputs(
    archive_run: ArchiveRun,
) -> None:
    archive = archive_run.archive
    policy = archive_run.account_policy

    destination = archive.destination(str(policy.destination_arn))

    assert archive.outputs["CentralLogDestinationArn"] == destination.arn
    assert destination.arn.split(":")[3:5] == [REGION, LOG_ARCHIVE_ACCOUNT]
    assert archive_run.local.stack.rule.input_parameters["CentralLogDestinationArn"] == (
        destination.arn
    )
    described = archive_run.local.log_archive_admin.logs().describe_destinations()
    (deployed,) = described["destinations"]
    assert deployed["arn"] == destination.arn
    assert json.loads(deployed["accessPolicy"])["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}
    }


# -- the loop ----------------------------------------------------------------------------------


def test_the_rule_is_compliant_only_while_the_policy_forwards_the_flow_logs_group(
    archive_run: ArchiveRun,
) -> None:
    types = {
        step: evaluation.compliance_type for step, evaluation in archive_run.evaluations.items()
    }

    assert types == {
        "discovered": NON_COMPLIANT,
        "remediated": COMPLIANT,
        "policy deleted": NON_COMPLIANT,
        "policy restored": COMPLIANT,
    }
    remediation = archive_run.remediation
    assert remediation is not None
    assert remediation.succeeded, remediation.failure_message
    assert archive_run.log_group == f"/aws/vpc-flow-logs/{archive_run.vpc_id}"
    deleted = archive_run.evaluations["policy deleted"].annotation
    assert f"delivers to log group {archive_run.log_group}" in deleted
    assert deleted.endswith(
        "which no account subscription filter policy forwards to destination "
        f"{LOG_ARCHIVE_STACK}-CentralArchive ({LOG_ARCHIVE_ACCOUNT})"
    )
    assert len(deleted) <= MAX_ANNOTATION_LENGTH


def test_a_flow_log_record_arrives_in_the_central_bucket_partitioned_by_account_and_date(
    archive_run: ArchiveRun,
) -> None:
    # Given the bucket of the stream the member's destination targets
    archive = archive_run.archive
    destination = archive.destination(str(archive_run.account_policy.destination_arn))
    stream = archive.streams[destination.target_arn]

    # When the first record was written, one object arrived, in that bucket
    (key, body), *others = new_objects(archive_run, "remediated", None).items()

    # Then under the member's account, the Region, the day it arrived (UTC), named by the stream
    assert others == []
    written = archive_run.written_at["remediated"]
    days = {
        time.strftime("year=%Y/month=%m/day=%d/", time.gmtime(t)) for t in (written, time.time())
    }
    prefix = (
        f"{stream.bucket_name}/CloudWatchLogs/account={archive_run.member_account}/region={REGION}/"
    )
    assert any(key.startswith(f"{prefix}{day}{stream.name}-1-") for day in days), key
    assert key.endswith(".gz")
    # and it is the destination's record, decompressed, one JSON line, GZIP again
    (line,) = gzip.decompress(body).decode().splitlines()
    message = json.loads(line)
    assert message["messageType"] == "DATA_MESSAGE"
    assert message["owner"] == archive_run.member_account
    assert message["logGroup"] == archive_run.log_group
    assert message["logStream"] == ENI
    assert message["subscriptionFilters"] == [archive_run.account_policy.name]
    # with only the flow-log record: the policy's filter pattern left the other line out
    assert [event["message"] for event in message["logEvents"]] == [
        archive_run.records["remediated"]
    ]
    FIGURES.append(
        f"Central archive: partition keys by {jq_version()} (Firehose's engine: JQ-1.6); "
        f"deployment {archive_run.local.timings['deploy']:.1f} s, "
        f"the loop {archive_run.seconds:.1f} s"
    )


def test_nothing_is_archived_while_the_policy_is_deleted_and_flow_resumes_once_restored(
    archive_run: ArchiveRun,
) -> None:
    assert new_objects(archive_run, "policy deleted", "remediated") == {}
    restored = new_objects(archive_run, "policy restored", "policy deleted")
    assert [message for body in restored.values() for message in archived_messages(body)] == [
        archive_run.records["policy restored"]
    ]
    everything = [
        message
        for body in archive_run.archived["policy restored"].values()
        for message in archived_messages(body)
    ]
    assert archive_run.records["policy deleted"] not in everything


# -- least privilege by execution --------------------------------------------------------------


def test_the_member_roles_requests_are_allowed_by_the_templates_policies(
    archive_run: ArchiveRun, archive_assembly: Path
) -> None:
    local = archive_run.local
    requests, unmapped = recorded_requests(local)

    verdict = evaluate(
        requests, role_policies(local, template_stack(local, archive_assembly)), expect=ALLOWED
    )

    assert unmapped == [], "\n".join(unmapped)
    assert verdict.failures == [], verdict.report()
    actions = {request.action for request, _ in verdict.rows}
    assert {"logs:DescribeAccountPolicies", "logs:DescribeSubscriptionFilters"} <= actions
    assert {"ec2:CreateFlowLogs", "logs:CreateLogGroup", "config:PutEvaluations"} <= actions
    FIGURES.append(
        f"Central archive, IAM by execution: {len(verdict.rows)} IAM requests of the member "
        f"roles' {len(local.requests.by_roles())} recorded calls, all allowed"
    )


def test_the_delivery_chain_the_run_went_through_is_allowed_and_nothing_beside_it(
    archive_run: ArchiveRun,
) -> None:
    # Given the requests AWS would authorize for what the run delivered
    cases = delivery_cases(archive_run)

    # When each is evaluated with the log-archive template's policies
    decisions = simulate([(request, policies) for _, request, policies, _ in cases])

    # Then each is decided as expected
    failures = [
        f"{why}: {request.action} on {request.resource}: {decision}, expected {expected}"
        for (why, request, _, expected), decision in zip(cases, decisions, strict=True)
        if (decision == ALLOWED) != (expected == ALLOWED)
    ]
    assert failures == [], "\n".join(failures)
    FIGURES.append(
        f"Central archive, delivery chain: {len(cases)} requests built from the run "
        f"({sum(1 for _, _, _, e in cases if e == ALLOWED)} to allow), each decided as expected"
    )


def delivery_cases(run: ArchiveRun) -> list[tuple[str, Request, Policies, str]]:
    """(why, request, policies, expected decision) for each step the run's records took."""
    archive = run.archive
    local = run.local
    destination = archive.destination(str(run.account_policy.destination_arn))
    stream = archive.streams[destination.target_arn]
    logs_role = archive.roles[destination.role_arn]
    firehose_role = archive.roles[stream.role_arn]
    bucket = archive.buckets[stream.bucket_name]
    deployer = local.admin.sts().get_caller_identity()["Arn"]
    deployer_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    access_policy: dict[str, Any] = json.loads(destination.access_policy or "{}")
    member = {
        "aws:PrincipalArn": deployer,
        "aws:PrincipalAccount": run.member_account,
        "aws:PrincipalOrgID": ORGANIZATION_ID,
    }

    # CloudWatch Logs checks the destination's access policy itself: the service authorization
    # reference gives logs:PutAccountPolicy no resource type (the simulator refuses one), so the
    # statement is evaluated through logs:PutSubscriptionFilter, which it grants alike.
    (statement,) = access_policy["Statement"]
    assert {"logs:PutAccountPolicy", "logs:PutSubscriptionFilter"} <= set(statement["Action"])

    def subscribe(context: dict[str, str], expected: str, why: str) -> Any:
        action = "logs:PutSubscriptionFilter"
        return (
            why,
            Request(deployer, action, destination.arn, context, LOG_ARCHIVE_ACCOUNT),
            Policies(identity={"admin": deployer_policy}, resource=access_policy),
            expected,
        )

    def as_role(role: Any, action: str, resource: str, **context: str) -> Request:
        keys = {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": LOG_ARCHIVE_ACCOUNT}
        return Request(role.arn, action, resource, {**keys, **context}, LOG_ARCHIVE_ACCOUNT)

    def firehose_writes(key: str, expected: str, why: str) -> Any:
        request = as_role(
            firehose_role, "s3:PutObject", f"{bucket.arn}/{key}", **{"aws:SecureTransport": "true"}
        )
        return (
            why,
            request,
            Policies(identity=firehose_role.inline_policies, resource=bucket.policy),
            expected,
        )

    delivered = [
        item.split("/", 1)[1]
        for item in sorted(run.archived["policy restored"])
        if item.startswith(f"{bucket.name}/")
    ]
    other_org = {**member, "aws:PrincipalOrgID": "o-zzzzzzzzzz"}
    cases = [
        subscribe(member, ALLOWED, "the member's deployer subscribes to the destination"),
        subscribe(other_org, IMPLICITLY_DENIED, "a principal of another organization"),
        (
            "CloudWatch Logs puts into the stream as the destination's role",
            as_role(logs_role, "firehose:PutRecordBatch", stream.arn),
            Policies(identity=logs_role.inline_policies),
            ALLOWED,
        ),
        (
            "the destination's role into another stream",
            as_role(logs_role, "firehose:PutRecordBatch", stream.arn + "-other"),
            Policies(identity=logs_role.inline_policies),
            IMPLICITLY_DENIED,
        ),
        *[firehose_writes(key, ALLOWED, "Firehose writes what it wrote") for key in delivered],
        firehose_writes(
            f"AWSLogs/{run.member_account}/vpcflowlogs/{REGION}/forged.log.gz",
            "ExplicitlyDenied",
            "Firehose writing where the log delivery service writes",
        ),
    ]
    assert delivered, "the run archived nothing: the evaluation would prove nothing"
    return cases

"""A seeded account that grows: VPCs with the mix of flow logs a real account has.

Every VPC gets a profile drawn with a seeded random generator, so the same seed gives the same
account. Most are compliant (one flow log to CloudWatch Logs or S3, some to a log group shared by
many VPCs); some have no flow log, a log group kept too briefly or a failed delivery; some have
several flow logs (ACCEPT + REJECT pairs, CloudWatch Logs + S3). moto's default VPC has none.
Resources are created in moto's backends directly (``tests.support.accounts.BackendWorld``, the
tests' ``World`` with faster hands): through the API, 5,000 VPCs with their log groups and flow
logs take about 80 s of moto's per-request work, directly about 25 s. What is measured still goes
through boto3.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from tests.support.accounts import BackendWorld, World

__all__ = [
    "ACCEPT_DELETED",
    "BUCKET",
    "BUCKET_ARN",
    "NO_FLOW_LOG",
    "PROFILES",
    "REMEDIATED",
    "RETENTION_SHORTENED",
    "SHARED_LOG_GROUP",
    "SHORT_RETENTION_DAYS",
    "Facts",
    "GrowingAccount",
    "Profile",
]

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_ec2.type_defs import FlowLogTypeDef

SHARED_LOG_GROUP: Final = "/aws/vpc-flow-logs/shared"
BUCKET: Final = "bench-vpc-flow-logs"
BUCKET_ARN: Final = f"arn:aws:s3:::{BUCKET}"  # what World.bucket(BUCKET) returns
SHORT_RETENTION_DAYS: Final = 30


@dataclass(frozen=True)
class Profile:
    name: str
    weight: int
    compliant: bool
    arrange: Callable[[World, str], None]


def _reject_own_group(world: World, vpc_id: str) -> None:
    world.flow_log(vpc_id, "REJECT")  # a new log group kept 365 days


def _all_to_shared_group(world: World, vpc_id: str) -> None:
    world.flow_log(vpc_id, "ALL", log_group=SHARED_LOG_GROUP)


def _all_to_s3(world: World, vpc_id: str) -> None:
    world.flow_log(vpc_id, "ALL", destination_type="s3", destination=BUCKET_ARN)


def _accept_and_reject(world: World, vpc_id: str) -> None:
    world.flow_log(vpc_id, "ACCEPT")
    world.flow_log(vpc_id, "REJECT")


def _cloud_watch_and_s3(world: World, vpc_id: str) -> None:
    world.flow_log(vpc_id, "ALL")
    _all_to_s3(world, vpc_id)


def _nothing(world: World, vpc_id: str) -> None:
    del world, vpc_id


def _short_retention(world: World, vpc_id: str) -> None:
    group = world.log_group(f"/aws/vpc-flow-logs/{vpc_id}", SHORT_RETENTION_DAYS)
    world.flow_log(vpc_id, "REJECT", log_group=group)


def _failed_delivery(world: World, vpc_id: str) -> None:
    flow_log_id = world.flow_log(vpc_id, "REJECT")
    world.set_flow_log(
        flow_log_id, deliver_logs_status="FAILED", deliver_logs_error_message="Access error"
    )


NO_FLOW_LOG: Final = Profile("no flow log", 9, False, _nothing)
PROFILES: Final = (  # name, weight (out of 100), compliant, how to arrange it
    Profile("REJECT to its own log group (365 days)", 55, True, _reject_own_group),
    Profile("ALL to a shared log group (never expires)", 10, True, _all_to_shared_group),
    Profile("ALL to S3", 8, True, _all_to_s3),
    Profile("ACCEPT + REJECT, one log group each", 7, True, _accept_and_reject),
    Profile("ALL to CloudWatch Logs and to S3", 2, True, _cloud_watch_and_s3),
    NO_FLOW_LOG,
    Profile("REJECT to a log group kept 30 days", 7, False, _short_retention),
    Profile("REJECT, delivery FAILED", 2, False, _failed_delivery),
)
REMEDIATED: Final = Profile("remediated by the runbook", 0, True, _nothing)
RETENTION_SHORTENED: Final = Profile(
    "REJECT, its log group since shortened to 30 days", 0, False, _nothing
)
ACCEPT_DELETED: Final = Profile("REJECT; its ACCEPT flow log deleted", 0, True, _nothing)


@dataclass(frozen=True)
class Facts:
    """What the lower bound depends on, read from the account (not from the rule)."""

    vpcs: int
    flow_logs: int
    log_groups: int
    """Distinct CloudWatch Logs groups that the VPCs' flow logs deliver to."""


class GrowingAccount:
    """The benchmark's account in moto; ``grow_to(n)`` adds VPCs until there are ``n``."""

    def __init__(self, seed: int) -> None:
        self.world = BackendWorld()
        self._random = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
        self.profiles: dict[str, Profile] = {self.world.default_vpc_id: NO_FLOW_LOG}
        self.world.bucket(BUCKET)
        self.world.log_group(SHARED_LOG_GROUP, retention_days=None)

    def grow_to(self, count: int) -> None:
        weights = [profile.weight for profile in PROFILES]
        while len(self.profiles) < count:
            profile = self._random.choices(PROFILES, weights)[0]
            vpc_id = self.world.vpc()
            profile.arrange(self.world, vpc_id)
            self.profiles[vpc_id] = profile

    def add_vpc_for_remediation(self) -> str:
        """A VPC with no flow log, counted as compliant from now on (the runbook will fix it)."""
        vpc_id = self.world.vpc()
        self.profiles[vpc_id] = REMEDIATED
        return vpc_id

    def shorten_retention(self, count: int) -> list[str]:
        """Shorten the log group of ``count`` compliant VPCs to 30 days: only a scheduled run
        sees it (a log group's retention is not a flow log's or a VPC's configuration)."""
        own_group = PROFILES[0]
        chosen = [vpc_id for vpc_id, p in self.profiles.items() if p is own_group][:count]
        if len(chosen) < count:
            raise RuntimeError(f"only {len(chosen)} VPCs of {own_group.name!r} to change")
        for vpc_id in chosen:
            self.world.retention(f"/aws/vpc-flow-logs/{vpc_id}-reject", SHORT_RETENTION_DAYS)
            self.profiles[vpc_id] = RETENTION_SHORTENED
        return chosen

    def add_vpc_with_two_flow_logs(self) -> tuple[str, str, str]:
        """A VPC with a REJECT and an ACCEPT flow log: (VPC id, REJECT id, ACCEPT id). The
        caller deletes the ACCEPT one; REJECT alone keeps the VPC compliant."""
        vpc_id = self.world.vpc()
        reject = self.world.flow_log(vpc_id, "REJECT")
        accept = self.world.flow_log(vpc_id, "ACCEPT")
        self.profiles[vpc_id] = ACCEPT_DELETED
        return vpc_id, reject, accept

    def expected(self) -> dict[str, int]:
        """How many VPCs the rule must find COMPLIANT and NON_COMPLIANT (none is exempt)."""
        compliant = sum(profile.compliant for profile in self.profiles.values())
        return {
            "COMPLIANT": compliant,
            "NON_COMPLIANT": len(self.profiles) - compliant,
            "NOT_APPLICABLE": 0,
        }

    def mix(self) -> Counter[str]:
        return Counter(profile.name for profile in self.profiles.values())

    def one_of(self, profile: Profile) -> str | None:
        return next((v for v, p in self.profiles.items() if p is profile), None)

    def facts(self) -> Facts:
        ec2 = self.world.ec2
        vpcs = [v for page in ec2.get_paginator("describe_vpcs").paginate() for v in page["Vpcs"]]
        pages = ec2.get_paginator("describe_flow_logs").paginate()
        flow_logs = [flow_log for page in pages for flow_log in page["FlowLogs"]]
        return Facts(len(vpcs), len(flow_logs), len(_log_groups(flow_logs)))


def _log_groups(flow_logs: list[FlowLogTypeDef]) -> set[str]:
    return {
        fl["LogGroupName"]
        for fl in flow_logs
        if fl.get("LogDestinationType") == "cloud-watch-logs" and fl.get("LogGroupName")
    }

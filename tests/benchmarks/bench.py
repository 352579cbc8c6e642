"""``make bench``: what a scheduled evaluation and a remediation cost as an account grows.

One moto account (in process, patched by ``local_aws.moto_patches`` to answer as AWS documents)
grows through the sizes; at each size the rule's scheduled run (twice: the second, steady-state
run is measured, then a run after 1% of the VPCs changed), the record-every-VPC and naive
baselines, change notifications of VPCs and flow logs and the runbook are measured. Then the
Lambda's cold start and asset. Prints the tables and PASS/FAIL per target; exits 1 if one fails.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from moto import mock_aws

from local_aws.moto_patches import patch_moto
from tests.benchmarks import report
from tests.benchmarks.account import PROFILES, GrowingAccount
from tests.benchmarks.cold_start import (
    HANDLER_MODULE,
    Asset,
    ImportTimes,
    Runtime,
    import_times,
    lambda_asset,
    lambda_runtime,
    with_bytecode,
)
from tests.benchmarks.evaluation import (
    Rule,
    measured_naive,
    measured_record_every_vpc,
    measured_with_forwarding,
)
from tests.benchmarks.measure import settle
from tests.benchmarks.remediation import (
    ALREADY_COMPLIANT,
    FRESH,
    FRESH_WITHOUT_ROLE,
    Remediation,
    delivery_role_name,
    forget_delivery_role,
    remediate,
    warm_up,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.benchmarks.measure import Measurement

SIZES: Final = (10, 100, 1000, 5000)
SEED: Final = 20261122
IMPORT_RUNS: Final = 7
NAIVE_MEMORY_MAX_SIZE: Final = 100
"""tracemalloc slows moto's work on the naive baseline's ~3 calls per VPC several times over."""
CDK_OUT: Final = Path("/tmp/bench-cdk.out")  # noqa: S108 - the folder docs/performance.md quotes
BUNDLE_OUT: Final = Path("/tmp/bench-asset")  # noqa: S108 - only if the synth fails
BYTECODE_OUT: Final = Path("/tmp/bench-asset-bytecode")  # noqa: S108
RUNTIME_CACHE: Final = Path("/tmp/bench-runtime")  # noqa: S108 - boto3 for the runtime's python
BARE_BOTO3: Final = "import boto3 (bare)"
AS_SYNTHESIZED: Final = "import handler, asset as synthesized"
WITH_BYTECODE: Final = "import handler, asset + byte code compiled"
_START: Final = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)


NOTHING: Final = {"COMPLIANT": 0, "NON_COMPLIANT": 0, "NOT_APPLICABLE": 0}


def measure_size(account: GrowingAccount, rule: Rule, size: int) -> report.SizeResult:
    account.grow_to(size)
    settle()
    progress(f"N={size:,}: account built")
    facts = account.facts()
    rule.scheduled()  # the first run records results, as the previous day's run would have
    recorded = account.world.recorded()
    steady = rule.measured_scheduled(NOTHING)  # nothing changed: nothing may be recorded
    peak = rule.scheduled_peak_memory()
    progress(f"N={size:,}: steady scheduled run {steady.total} calls, {steady.seconds:.2f}s")
    forwarding = measured_with_forwarding(rule, NOTHING)
    progress(f"N={size:,}: with the central destination {forwarding.total} calls")
    every = measured_record_every_vpc(rule)
    naive = measured_naive(rule, recorded, with_memory=size <= NAIVE_MEMORY_MAX_SIZE)
    progress(f"N={size:,}: baselines {every.measurement.total}, {naive.measurement.total} calls")
    changed = account.shorten_retention(math.ceil(facts.vpcs / 100))
    drift = rule.measured_scheduled({**NOTHING, "NON_COMPLIANT": len(changed)})
    after = account.world.recorded()
    if any(after[vpc_id][0] != "NON_COMPLIANT" for vpc_id in changed):
        raise RuntimeError("the changed VPCs were not recorded NON_COMPLIANT")
    progress(f"N={size:,}: run after {len(changed)} changed, {drift.total} calls")
    return report.SizeResult(
        size=size,
        mix=dict(account.mix()),
        facts=facts,
        recorded_results=len(recorded),
        scheduled=steady,
        scheduled_peak_bytes=peak,
        changed=len(changed),
        after_change=drift,
        every_vpc=every,
        naive=naive,
        changes=_changes(account, rule),
        flow_log_changes=_flow_log_changes(account, rule),
        remediations=_remediations(account, rule),
        forwarding=forwarding,
    )


def _changes(account: GrowingAccount, rule: Rule) -> dict[str, Measurement]:
    """A ConfigurationItemChangeNotification for one VPC of each profile in the account."""
    vpcs = {profile.name: account.one_of(profile) for profile in PROFILES}
    return {name: rule.change(vpc_id) for name, vpc_id in vpcs.items() if vpc_id}


def _flow_log_changes(account: GrowingAccount, rule: Rule) -> dict[str, Measurement]:
    """A flow log's creation, then another one's deletion, each notified as Config does; the
    deletion without a diff (the VPC read from the history), then with one."""
    vpc_id, reject, accept = account.add_vpc_with_two_flow_logs()
    compliant = {"COMPLIANT": 1}
    created = rule.flow_log_change(
        reject, vpc_id=vpc_id, status="ResourceDiscovered", expected=compliant
    )
    account.world.ec2.delete_flow_logs(FlowLogIds=[accept])
    deleted = rule.flow_log_change(
        accept, vpc_id=None, status="ResourceDeleted", expected=compliant
    )
    from_diff = rule.flow_log_change(
        accept, vpc_id=vpc_id, status="ResourceDeleted", expected=compliant
    )
    return {
        report.FLOW_LOG_CREATED: created,
        report.FLOW_LOG_DELETED: deleted,
        report.FLOW_LOG_DELETED_DIFF: from_diff,
    }


def _remediations(account: GrowingAccount, rule: Rule) -> dict[str, Remediation]:
    """Two new VPCs remediated (the first in an account without the delivery role), then the
    first again. They stay in the account, compliant, as remediated VPCs do."""
    warm_up(rule.session)
    forget_delivery_role(rule.session, delivery_role_name())
    first, second = account.add_vpc_for_remediation(), account.add_vpc_for_remediation()
    return {
        FRESH_WITHOUT_ROLE: remediate(rule.session, first),
        FRESH: remediate(rule.session, second),
        ALREADY_COMPLIANT: remediate(rule.session, first),
    }


@dataclass(frozen=True)
class ColdStart:
    asset: Asset
    compiled: Asset
    runtime: Runtime
    times: dict[str, ImportTimes]

    @property
    def import_ratio(self) -> float:
        """Handler (asset as synthesized) over bare boto3, best runs (the least disturbed)."""
        return self.times[AS_SYNTHESIZED].best / self.times[BARE_BOTO3].best


def measure_cold_start(runs: int) -> ColdStart:
    asset = lambda_asset(CDK_OUT, BUNDLE_OUT)
    runtime = lambda_runtime(asset.runtime, RUNTIME_CACHE)
    progress(f"Lambda asset {asset.path}; runtime {runtime.how}")
    compiled = with_bytecode(asset, runtime, BYTECODE_OUT)
    cases: dict[str, tuple[str, Path | None]] = {
        BARE_BOTO3: ("boto3", None),
        AS_SYNTHESIZED: (HANDLER_MODULE, asset.path),
        WITH_BYTECODE: (HANDLER_MODULE, compiled.path),
    }
    return ColdStart(asset, compiled, runtime, import_times(runtime, cases, runs))


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(size) for size in text.split(",")),
        default=SIZES,
        help="comma-separated VPC counts, ascending (default: 10,100,1000,5000)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the account's mix")
    parser.add_argument("--import-runs", type=int, default=IMPORT_RUNS)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    if list(arguments.sizes) != sorted(arguments.sizes):
        raise SystemExit("--sizes must be ascending: the account only grows")
    with mock_aws(), patch_moto():
        account = GrowingAccount(arguments.seed)
        rule = Rule()
        results = [measure_size(account, rule, size) for size in arguments.sizes]
    cold = measure_cold_start(arguments.import_runs)
    progress("done")
    checks = report.targets(results, cold.import_ratio)
    sections = [
        report.mix_table(results),
        report.scheduled_table(results),
        report.forwarding_table(results),
        report.every_vpc_table(results),
        report.naive_table(results),
        report.change_table(results),
        report.remediation_table(results),
        report.remediation_operations_table(results[-1]),
        report.cold_start_table(cold.times, BARE_BOTO3, cold.runtime.how),
        report.asset_lines(cold.asset, cold.compiled),
        "Targets\n" + "\n".join(check.line() for check in checks),
    ]
    print("\n\n".join(sections))
    return 1 if any(check.passed is False for check in checks) else 0

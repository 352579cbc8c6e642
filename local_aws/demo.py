"""``make demo``: synthesize the app, run it against an embedded AWS, print the dashboard.

Exit status: 0 when every VPC ends as expected, 1 when one does not (in particular a VPC that
should end COMPLIANT and does not), 2 when the run itself fails (synth, template, an
invocation or a remediation that AWS would refuse).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from local_aws.automation import AutomationError
from local_aws.dashboard import render
from local_aws.intrinsics import TemplateError
from local_aws.lambda_runner import LambdaInvocationError
from local_aws.run import LocalDeployment, read_stack
from local_aws.sandbox import SandboxError
from local_aws.scenario import DEMO_CONTEXT, ScenarioError, check_settings, run_scenario
from local_aws.synth import SynthError, synthesize

EXIT_UNEXPECTED = 1
EXIT_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_aws.demo", description=__doc__)
    parser.add_argument(
        "--assembly",
        type=Path,
        help="use this cloud assembly instead of synthesizing (it must have been synthesized "
        + " ".join(f"-c {key}={value}" for key, value in DEMO_CONTEXT.items())
        + ")",
    )
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="local-aws-demo-") as scratch:
            assembly = args.assembly
            synth_seconds = 0.0
            if assembly is None:
                context = " ".join(f"-c {key}={value}" for key, value in DEMO_CONTEXT.items())
                _say(f"Synthesizing the app: npx cdk synth {context} ...")
                clock = time.monotonic()
                assembly = synthesize(Path(scratch) / "cdk.out", DEMO_CONTEXT)
                synth_seconds = time.monotonic() - clock
            check_settings(read_stack(assembly, region=args.region))
            _say("Deploying the synthesized stack into moto on 127.0.0.1 (IAM enforced) ...")
            with LocalDeployment(assembly, region=args.region) as local:
                _say("Playing AWS Config: discover, remediate, notify, drift, scheduled run ...")
                result = run_scenario(local)
                rule_name = local.deployment.rule_name
    except (SynthError, TemplateError, SandboxError, AutomationError, ScenarioError) as error:
        _say(f"\nThe run failed: {error}")
        return EXIT_ERROR
    except LambdaInvocationError as error:
        _say(f"\nThe rule's Lambda failed: {error}\n--- its output ---\n{error.output[-6000:]}")
        return EXIT_ERROR
    if synth_seconds:
        result.timings = {"synth": synth_seconds, **result.timings}
    result.timings["total"] = time.monotonic() - started
    print(render(result, rule_name=rule_name, region=args.region))
    return EXIT_UNEXPECTED if result.failed else 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

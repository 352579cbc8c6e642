"""Entry point of ``make bench`` (``python tests/benchmarks/run.py [--sizes 10,100]``).

Puts the project on ``sys.path`` as pytest's ``pythonpath`` does, gives boto3 fake credentials
and a region (everything runs against moto; nothing may reach AWS), then runs the benchmark.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "vpc-flow-logs-rule",
    "POWERTOOLS_METRICS_NAMESPACE": "VpcFlowLogsGuard",
}


def run() -> int:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(ENVIRONMENT)
    sys.path[:0] = [str(ROOT / "lambdas"), str(ROOT / "ssm_documents" / "scripts"), str(ROOT)]
    from tests.benchmarks.bench import main

    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())

"""IAM policy evaluation for tests: ``@cloud-copilot/iam-simulate`` (pinned in package.json).

It matches principals, actions, resources and every condition operator the way IAM documents,
with identity policies, a resource policy and permissions boundaries. It does not fill in request
context keys itself: each request states what AWS would send (``aws:SourceOrgID``,
``iam:PassedToService``, ``aws:RequestTag/...``), so a test names the facts it relies on.
All requests of one call are evaluated by one ``node`` process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ROOT: Final = Path(__file__).resolve().parents[2]
"""The repository: ``node`` resolves ``node_modules/@cloud-copilot/iam-simulate`` from here."""
DEFAULT_ACCOUNT: Final = "123456789012"

ALLOWED: Final = "Allowed"
IMPLICITLY_DENIED: Final = "ImplicitlyDenied"
EXPLICITLY_DENIED: Final = "ExplicitlyDenied"

_SIMULATE: Final = """
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
Promise.all(input.map((simulation) => runSimulation(simulation, {}))).then((results) => {
  process.stdout.write(JSON.stringify(results.map((r) =>
    r.resultType === 'error' ? {error: r.errors} : {decision: r.overallResult})));
});
"""


class SimulationError(RuntimeError):
    """The simulator refused a request as malformed (unknown action, bad ARN, bad policy)."""


@dataclass(frozen=True)
class Request:
    """One API request as IAM authorizes it: who, which action, on what, with which context."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    account_id: str = DEFAULT_ACCOUNT
    """The account that owns the resource."""


@dataclass(frozen=True)
class Policies:
    """What applies to a request: the caller's identity policies, boundary, resource policy."""

    identity: Mapping[str, Any] = field(default_factory=dict)
    """Policy name -> document, attached to the caller."""
    boundary: Mapping[str, Any] | None = None
    """The caller's permissions boundary, if any."""
    resource: Mapping[str, Any] | None = None
    """The resource's own policy (bucket policy, key policy), if any."""


def simulate(cases: Sequence[tuple[Request, Policies]]) -> list[str]:
    """The decision for each case: ``Allowed``, ``ImplicitlyDenied`` or ``ExplicitlyDenied``.

    Raises ``SimulationError`` naming the request when the simulator finds the input malformed.
    """
    if not cases:
        return []
    simulations = [_simulation(request, policies) for request, policies in cases]
    node = shutil.which("node")
    if node is None:
        raise SimulationError("node is needed (the CDK CLI needs it too)")
    completed = subprocess.run(  # noqa: S603 - node with our fixed script
        [node, "-e", _SIMULATE],
        cwd=ROOT,
        input=json.dumps(simulations),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise SimulationError(f"iam-simulate failed: {completed.stderr.strip()}")
    decisions: list[str] = []
    for (request, _), result in zip(cases, json.loads(completed.stdout), strict=True):
        if "error" in result:
            raise SimulationError(f"{request.action} on {request.resource}: {result['error']}")
        decisions.append(result["decision"])
    return decisions


def _simulation(request: Request, policies: Policies) -> dict[str, Any]:
    simulation: dict[str, Any] = {
        "request": {
            "principal": request.principal,
            "action": request.action,
            "resource": {"resource": request.resource, "accountId": request.account_id},
            "contextVariables": dict(request.context),
        },
        "identityPolicies": [
            {"name": name, "policy": policy} for name, policy in policies.identity.items()
        ],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if policies.resource is not None:
        simulation["resourcePolicy"] = policies.resource
    if policies.boundary is not None:
        simulation["permissionBoundaryPolicies"] = [
            {"name": "boundary", "policy": policies.boundary}
        ]
    return simulation


def table(rows: Sequence[tuple[Request, str]]) -> str:
    """(principal, action, resource, decision) as aligned text, for a failing test's output."""
    lines = [(r.principal.rsplit("/", 1)[-1], r.action, r.resource, d) for r, d in rows]
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(_HEADER)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [_HEADER, *lines]
    )


_HEADER: Final = ("role", "action", "resource", "decision")

"""A synthesized template as CloudFormation reads it where it deploys the stack: which of its
conditions hold in an account and Region, what a property resolves to once resources have
names. The same resolver the embedded AWS deploys with (``local_aws.intrinsics``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_aws.intrinsics import PseudoParameters, Resolver

if TYPE_CHECKING:
    from collections.abc import Mapping


class _Names:
    """``Ref`` of a resource: ``names[logical_id]``; ``Fn::GetAtt``: ``names["Id.Attribute"]``."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names

    def ref(self, logical_id: str) -> Any:
        return self._names[logical_id]

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self._names[f"{logical_id}.{attribute}"]


def resolver(
    template: Mapping[str, Any], account: str, region: str, names: Mapping[str, str] | None = None
) -> Resolver:
    """Resolves ``template``'s values in ``account`` and ``region``, its resources named by
    ``names`` (logical id, or ``logical id.Attribute``, -> value)."""
    pseudo = PseudoParameters(account_id=account, region=region, stack_name="VpcFlowLogsGuard")
    return Resolver(template, pseudo, _Names(names or {}))


def condition_holds(template: Mapping[str, Any], condition: str, account: str, region: str) -> bool:
    """Whether the template's condition ``condition`` is true in ``account`` and ``region``."""
    return resolver(template, account, region).condition(condition)

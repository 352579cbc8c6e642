"""Resolve CloudFormation intrinsic functions the way CloudFormation does when it deploys a stack.

Only what a synthesized CDK template needs: ``Ref`` (resources, parameters, pseudo parameters),
``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split``, ``Fn::If`` and the
condition functions, ``Fn::FindInMap``, ``Fn::GetAZs``, ``Fn::Base64`` and ``AWS::NoValue``.
Anything else fails with a :class:`TemplateError` that names it, never silently.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping


class TemplateError(Exception):
    """The template is malformed or uses something this local run cannot resolve."""


class _NoValue:
    """``{"Ref": "AWS::NoValue"}``: the property is removed, as CloudFormation does."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class PseudoParameters:
    """The values of ``AWS::AccountId``, ``AWS::Region`` and friends for one deployment."""

    account_id: str
    region: str
    stack_name: str
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    @property
    def stack_id(self) -> str:
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/00000000-0000-4000-8000-000000000000"
        )

    def value(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"unknown pseudo parameter {name}")
        return values[name]


class ResourceNames(Protocol):
    """What ``Ref`` and ``Fn::GetAtt`` of a resource return once it is deployed."""

    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition")


class Resolver:
    """Resolves values of one template, for one set of pseudo parameters and resource names."""

    def __init__(
        self,
        template: Mapping[str, Any],
        pseudo: PseudoParameters,
        names: ResourceNames,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self._template = template
        self._pseudo = pseudo
        self._names = names
        self._parameters = dict(parameters or {})
        self._conditions: dict[str, bool] = {}

    # -- public -------------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by its result."""
        resolved = self._resolve(value)
        if resolved is NO_VALUE:
            return None
        return resolved

    def condition(self, name: str) -> bool:
        """The value of a named condition of the template's ``Conditions`` section."""
        if name not in self._conditions:
            conditions = self._template.get("Conditions", {})
            if name not in conditions:
                raise TemplateError(f"condition {name} is not declared in Conditions")
            self._conditions[name] = self._truth(conditions[name])
        return self._conditions[name]

    def parameter(self, name: str) -> Any:
        declared = self._template.get("Parameters", {})
        if name not in declared:
            raise TemplateError(f"Ref to {name}: neither a parameter, a resource nor a pseudo one")
        if name in self._parameters:
            return self._parameters[name]
        if "Default" not in declared[name]:
            raise TemplateError(f"parameter {name} has no Default and no value was given")
        default = declared[name]["Default"]
        if str(declared[name].get("Type", "")).startswith("List<") or declared[name].get(
            "Type"
        ) == ("CommaDelimitedList"):
            return [item.strip() for item in str(default).split(",")]
        return default

    # -- resolution ---------------------------------------------------------------------------

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref takes a name, got {name!r}")
        if name.startswith("AWS::"):
            return self._pseudo.value(name)
        if name in self._template.get("Resources", {}):
            return self._names.ref(name)
        return self.parameter(name)

    def _function(self, name: str, argument: Any) -> Any:  # noqa: PLR0911
        if name == "Fn::GetAtt":
            return self._get_att(argument)
        if name == "Fn::Join":
            return self._join(argument)
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Select":
            return self._select(argument)
        if name == "Fn::Split":
            delimiter, source = self._expect_list(name, argument, 2)
            return str(self._resolve(source)).split(str(delimiter))
        if name == "Fn::If":
            condition, when_true, when_false = self._expect_list(name, argument, 3)
            return self._resolve(when_true if self.condition(condition) else when_false)
        if name in _CONDITION_FUNCTIONS:
            return self._truth({name: argument})
        if name == "Fn::FindInMap":
            return self._find_in_map(argument)
        if name == "Fn::GetAZs":
            region = self._resolve(argument) or self._pseudo.region
            return [f"{region}{zone}" for zone in "abc"]
        if name == "Fn::Base64":
            return base64.b64encode(str(self._resolve(argument)).encode()).decode()
        raise TemplateError(f"intrinsic function {name} is not supported by the local run")

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = self._expect_list("Fn::GetAtt", argument, 2)
            attribute = self._resolve(attribute)
        if logical_id not in self._template.get("Resources", {}):
            raise TemplateError(f"Fn::GetAtt of {logical_id}, which is not a resource")
        return self._names.get_att(logical_id, str(attribute))

    def _join(self, argument: Any) -> str:
        delimiter, items = self._expect_list("Fn::Join", argument, 2)
        values = self._resolve(items)
        if not isinstance(values, list):
            raise TemplateError(f"Fn::Join needs a list, got {values!r}")
        return str(delimiter).join(self._scalar("Fn::Join", item) for item in values)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = self._expect_list("Fn::Sub", argument, 2)
            variables = {key: self._resolve(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self._scalar("Fn::Sub", variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                return self._scalar("Fn::Sub", self._get_att([logical_id, attribute]))
            return self._scalar("Fn::Sub", self._ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

    def _select(self, argument: Any) -> Any:
        index, items = self._expect_list("Fn::Select", argument, 2)
        values = self._resolve(items)
        position = int(self._resolve(index))
        if not isinstance(values, list) or not 0 <= position < len(values):
            raise TemplateError(f"Fn::Select index {position} is out of range of {values!r}")
        return values[position]

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top, second = (self._resolve(item) for item in argument)
        try:
            return self._template["Mappings"][map_name][top][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap {map_name}/{top}/{second}: no such key") from error

    def _truth(self, value: Any) -> bool:  # noqa: PLR0911 - one return per condition function
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        if not isinstance(value, dict) or len(value) != 1:
            raise TemplateError(f"not a condition: {value!r}")
        (name, argument), *_ = value.items()
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::Equals":
            left, right = self._expect_list(name, argument, 2)
            return bool(self._resolve(left) == self._resolve(right))
        if name == "Fn::Not":
            (inner,) = self._expect_list(name, argument, 1)
            return not self._truth(inner)
        if name == "Fn::And":
            return all(self._truth(item) for item in argument)
        if name == "Fn::Or":
            return any(self._truth(item) for item in argument)
        resolved = self._resolve(value) if name.startswith("Fn::") else value
        if isinstance(resolved, bool) or (
            isinstance(resolved, str) and resolved.lower() in {"true", "false"}
        ):
            return self._truth(resolved)
        raise TemplateError(f"not a condition: {value!r}")

    @staticmethod
    def _expect_list(name: str, argument: Any, length: int) -> list[Any]:
        if not isinstance(argument, list) or len(argument) != length:
            raise TemplateError(f"{name} takes a list of {length} items, got {argument!r}")
        return argument

    @staticmethod
    def _scalar(name: str, value: Any) -> str:
        if isinstance(value, (dict, list)) or value is NO_VALUE:
            raise TemplateError(f"{name} needs a string where it got {value!r}")
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

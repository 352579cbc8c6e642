"""Intrinsic functions resolve as CloudFormation resolves them, and unknown ones fail loudly."""

from __future__ import annotations

from typing import Any

import pytest

from local_aws.intrinsics import PseudoParameters, Resolver, TemplateError

PSEUDO = PseudoParameters(account_id="111122223333", region="eu-west-1", stack_name="Demo")


class Names:
    """Resource names for the tests: Ref gives ``name-<id>``, GetAtt ``<id>.<attr>``."""

    def ref(self, logical_id: str) -> Any:
        return f"name-{logical_id}"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return f"{logical_id}.{attribute}"


TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "prod"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "NoDefault": {"Type": "String"},
    },
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "ProdInIreland": {
            "Fn::And": [
                {"Condition": "IsProd"},
                {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
            ]
        },
    },
    "Mappings": {"Sizes": {"prod": {"Memory": 512}}},
    "Resources": {"Role": {"Type": "AWS::IAM::Role"}, "Fn": {"Type": "AWS::Lambda::Function"}},
}


def resolve(value: Any, parameters: dict[str, str] | None = None) -> Any:
    return Resolver(TEMPLATE, PSEUDO, Names(), parameters).resolve(value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AWS::AccountId", "111122223333"),
        ("AWS::Region", "eu-west-1"),
        ("AWS::Partition", "aws"),
        ("AWS::StackName", "Demo"),
        ("AWS::URLSuffix", "amazonaws.com"),
    ],
)
def test_ref_of_a_pseudo_parameter(name: str, expected: str) -> None:
    assert resolve({"Ref": name}) == expected


def test_ref_of_a_resource_is_its_name_and_of_a_parameter_its_value() -> None:
    assert resolve({"Ref": "Role"}) == "name-Role"
    assert resolve({"Ref": "Env"}) == "prod"
    assert resolve({"Ref": "Env"}, {"Env": "dev"}) == "dev"
    assert resolve({"Ref": "Zones"}) == ["a", "b"]


def test_get_att_in_both_forms() -> None:
    assert resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == "Fn.Arn"
    assert resolve({"Fn::GetAtt": "Fn.Arn"}) == "Fn.Arn"


def test_join_of_a_cdk_arn() -> None:
    arn = {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":logs:", {"Ref": "AWS::Region"}, ":x"],
        ]
    }
    assert resolve(arn) == "arn:aws:logs:eu-west-1:x"


def test_sub_with_pseudo_parameters_attributes_variables_and_escapes() -> None:
    assert resolve({"Fn::Sub": "cdk-${AWS::AccountId}-${AWS::Region}"}) == (
        "cdk-111122223333-eu-west-1"
    )
    assert resolve({"Fn::Sub": "${Fn.Arn}/${Role}"}) == "Fn.Arn/name-Role"
    assert resolve({"Fn::Sub": ["${Greeting} ${!Literal}", {"Greeting": {"Ref": "Env"}}]}) == (
        "prod ${Literal}"
    )


def test_select_split_find_in_map_and_get_azs() -> None:
    assert resolve({"Fn::Select": [1, ["a", "b", "c"]]}) == "b"
    assert resolve({"Fn::Split": [",", "a,b"]}) == ["a", "b"]
    assert resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}) == 512
    assert resolve({"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "eu-west-1a"


def test_conditions_and_if() -> None:
    assert resolve({"Fn::If": ["IsProd", "big", "small"]}) == "big"
    assert resolve({"Fn::If": ["IsDev", "big", "small"]}) == "small"
    assert resolve({"Fn::If": ["ProdInIreland", 1, 2]}) == 1
    assert resolve({"Fn::If": ["IsProd", "big", "small"]}, {"Env": "dev"}) == "small"


def test_no_value_removes_the_property_or_list_item() -> None:
    value = {
        "Keep": 1,
        "Drop": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 2]},
        "List": ["a", {"Ref": "AWS::NoValue"}, "b"],
    }
    assert resolve(value) == {"Keep": 1, "List": ["a", "b"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue is not supported"),
        ({"Ref": "Nothing"}, "neither a parameter, a resource nor a pseudo one"),
        ({"Ref": "NoDefault"}, "has no Default"),
        ({"Fn::GetAtt": ["Nothing", "Arn"]}, "not a resource"),
        ({"Fn::Select": [5, ["a"]]}, "out of range"),
        ({"Fn::If": ["Unknown", 1, 2]}, "condition Unknown is not declared"),
        ({"Fn::Join": ["", [{"Fn::Split": [",", "a,b"]}]]}, "needs a string"),
        ({"Ref": "AWS::Bogus"}, "unknown pseudo parameter"),
    ],
)
def test_what_cannot_be_resolved_fails_with_a_message_naming_it(
    value: dict[str, Any], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        resolve(value)


def test_plain_values_are_left_alone() -> None:
    value = {"A": [1, "two", {"B": True}], "C": None}
    assert resolve(value) == value

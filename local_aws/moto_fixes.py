"""Make moto behave as AWS documents where moto 5.2 differs, without touching the product.

One context manager, :func:`patch_moto`, patches moto's response classes (not the product), so it
works for in-process ``mock_aws`` tests and for an in-process ``ThreadedMotoServer`` alike:

- ``logs:DescribeLogGroups`` honours ``logGroupIdentifiers`` (1-50 log group names; no other
  filter may be combined with it). moto ignores the parameter and lists every group.
- ``ec2:DescribeVpcs`` and ``ec2:DescribeFlowLogs`` honour ``MaxResults`` / ``NextToken``
  (moto returns everything in one page, which hides how many calls a caller makes).
- ``ec2:CreateFlowLogs`` to S3 accepts a bucket ARN with a key prefix
  (``arn:aws:s3:::bucket/prefix``, as the VPC user guide documents): moto looks the whole
  ``bucket/prefix`` up as a bucket name and reports it missing.
- ``config:PutEvaluations`` records evaluations without ``TestMode`` (moto raises
  NotImplementedError), accepts an empty list, and rejects what AWS rejects: more than 100
  evaluations, annotations over 256 characters, an unknown result token. With ``TestMode`` it
  records nothing, as AWS does.
- ``sts:AssumeRole`` of a role that does not exist fails with AccessDenied, as AWS answers
  (moto hands out credentials for any role ARN). Trust policies are still not evaluated.
- ``config:GetComplianceDetailsByConfigRule`` (not implemented in moto) returns the recorded
  evaluations: the latest per resource (by ``OrderingTimestamp``), filtered by compliance type,
  paged with ``Limit`` (default 10, at most 100) and ``NextToken``.
- ``AWS::EC2::FlowLog`` is recorded as a recorder that records the type does: each flow log
  moto creates or deletes adds a configuration item (``ResourceDiscovered`` with the flow log's
  configuration, ``ResourceDeleted`` without), and ``config:GetResourceConfigHistory`` returns
  them (newest first unless ``chronologicalOrder=Forward``, ``limit`` default 10, at most 100,
  ``NextToken``; unknown flow logs raise ResourceNotDiscoveredException). moto keeps no history
  and does not know the type. Whoever plays AWS Config reads the recorded items with
  :func:`configuration_items` to send the rule its change notifications.

AWS result tokens are opaque and tie an invocation to its rule. Whoever plays AWS Config (a test,
the e2e runner) gets one from :func:`issue_result_token` and puts it in the Lambda's event.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

from moto.config.exceptions import (
    InvalidLimitException,
    InvalidNextTokenException,
    InvalidParameterValueException,
    InvalidResultTokenException,
    NoSuchConfigRuleException,
    ResourceNotDiscoveredException,
    ValidationException,
)
from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.flow_logs import FlowLogsBackend
from moto.ec2.responses.flow_logs import FlowLogs
from moto.ec2.responses.vpcs import VPCs
from moto.iam.models import iam_backends
from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse
from moto.s3.models import S3Backend
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

from local_aws.moto_patches.logs import patch_logs

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_EVALUATIONS_PER_CALL = 100
MAX_ANNOTATION_LENGTH = 256
MAX_LOG_GROUP_IDENTIFIERS = 50
COMPLIANCE_DETAILS_DEFAULT_LIMIT = 10
COMPLIANCE_DETAILS_MAX_LIMIT = 100
FILTERABLE_COMPLIANCE_TYPES = frozenset({"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"})
FLOW_LOG_RESOURCE_TYPE = "AWS::EC2::FlowLog"
HISTORY_DEFAULT_LIMIT = 10
HISTORY_MAX_LIMIT = 100

_ISSUER = "local_aws.moto_fixes"
_STORE_ATTRIBUTE = "_moto_fixes_evaluations"  # lives on moto's config backend: reset with it
_HISTORY_ATTRIBUTE = "_moto_fixes_configuration_items"  # likewise

_lock = threading.Lock()
_issued_rule_names: set[str] = set()


def issue_result_token(rule_name: str) -> str:
    """A result token for one invocation of ``rule_name``, as AWS Config puts in the event."""
    payload = json.dumps(
        {"issuer": _ISSUER, "configRuleName": rule_name, "nonce": uuid.uuid4().hex}
    )
    with _lock:
        _issued_rule_names.add(rule_name)
    return base64.b64encode(payload.encode()).decode()


def _rule_name_from_token(token: str) -> str | None:
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("issuer") != _ISSUER:
        return None
    name = payload.get("configRuleName")
    return name if isinstance(name, str) else None


def _evaluation_store(backend: Any) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """rule name -> (resource type, resource id) -> latest evaluation, kept on the backend."""
    store: dict[str, dict[tuple[str, str], dict[str, Any]]] = backend.__dict__.setdefault(
        _STORE_ATTRIBUTE, {}
    )
    return store


def _index_token(next_token: str | None, total: int, error: Exception) -> int:
    if not next_token:
        return 0
    if not next_token.isdigit() or int(next_token) > total:
        raise error
    return int(next_token)


# --- config ---------------------------------------------------------------------------------


def _put_evaluations(self: Any) -> str:

    evaluations: list[dict[str, Any]] | None = self._get_param("Evaluations")
    token: str | None = self._get_param("ResultToken")
    test_mode = bool(self._get_param("TestMode", False))
    if evaluations is None:
        raise InvalidParameterValueException(
            "The Evaluations object in your request cannot be null."
            "Add the required parameters and try again."
        )
    if len(evaluations) > MAX_EVALUATIONS_PER_CALL:
        raise ValidationException(
            "1 validation error detected: Value at 'evaluations' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_EVALUATIONS_PER_CALL}"
        )
    for evaluation in evaluations:
        annotation = evaluation.get("Annotation")
        if annotation is not None and not 1 <= len(annotation) <= MAX_ANNOTATION_LENGTH:
            raise ValidationException(
                f"1 validation error detected: Value '{annotation}' at "
                "'evaluations.member.annotation' failed to satisfy constraint: "
                f"Member must have length between 1 and {MAX_ANNOTATION_LENGTH}"
            )
    if not token:
        raise InvalidResultTokenException()
    if test_mode:
        return json.dumps({"FailedEvaluations": []})
    rule_name = _rule_name_from_token(token)
    if rule_name is None:
        raise InvalidResultTokenException()

    now = time.time()
    with _lock:
        results = _evaluation_store(self.config_backend).setdefault(rule_name, {})
        for evaluation in evaluations:
            key = (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"])
            ordering = float(evaluation["OrderingTimestamp"])
            previous = results.get(key)
            if previous is not None and previous["OrderingTimestamp"] > ordering:
                continue  # AWS keeps the evaluation of the latest event
            results[key] = {
                "ComplianceType": evaluation["ComplianceType"],
                "Annotation": evaluation.get("Annotation"),
                "OrderingTimestamp": ordering,
                "ResultRecordedTime": now,
                "ConfigRuleInvokedTime": now,
            }
    return json.dumps({"FailedEvaluations": []})


def _get_compliance_details_by_config_rule(self: Any) -> str:

    rule_name: str = self._get_param("ConfigRuleName")
    compliance_types: list[str] = self._get_param("ComplianceTypes") or []
    limit = int(self._get_param("Limit") or 0) or COMPLIANCE_DETAILS_DEFAULT_LIMIT
    if limit > COMPLIANCE_DETAILS_MAX_LIMIT:
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to "
            f"{COMPLIANCE_DETAILS_MAX_LIMIT}"
        )
    unknown = sorted(set(compliance_types) - FILTERABLE_COMPLIANCE_TYPES)
    if unknown:
        raise InvalidParameterValueException(
            f"ComplianceTypes {unknown} cannot be used to filter results; allowed: "
            f"{sorted(FILTERABLE_COMPLIANCE_TYPES)}"
        )

    backend = self.config_backend
    with _lock:
        stored = _evaluation_store(backend).get(rule_name)
        known = stored is not None or rule_name in backend.config_rules
        known = known or rule_name in _issued_rule_names
        rows = sorted((stored or {}).items())
    if not known:
        raise NoSuchConfigRuleException(rule_name)
    if compliance_types:
        rows = [row for row in rows if row[1]["ComplianceType"] in compliance_types]

    start = _index_token(self._get_param("NextToken"), len(rows), InvalidNextTokenException())
    page = rows[start : start + limit]
    results = []
    for (resource_type, resource_id), evaluation in page:
        result: dict[str, Any] = {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ConfigRuleName": rule_name,
                    "ResourceType": resource_type,
                    "ResourceId": resource_id,
                    "EvaluationMode": "DETECTIVE",
                },
                "OrderingTimestamp": evaluation["OrderingTimestamp"],
            },
            "ComplianceType": evaluation["ComplianceType"],
            "ResultRecordedTime": evaluation["ResultRecordedTime"],
            "ConfigRuleInvokedTime": evaluation["ConfigRuleInvokedTime"],
        }
        if evaluation["Annotation"] is not None:
            result["Annotation"] = evaluation["Annotation"]
        results.append(result)
    body: dict[str, Any] = {"EvaluationResults": results}
    if start + limit < len(rows):
        body["NextToken"] = str(start + limit)
    return json.dumps(body)


# --- config: configuration items of AWS::EC2::FlowLog ---------------------------------------


def _items(backend: Any) -> list[dict[str, Any]]:
    """Every configuration item recorded in the backend's account and region, in order."""
    items: list[dict[str, Any]] = backend.__dict__.setdefault(_HISTORY_ATTRIBUTE, [])
    return items


def configuration_items(account_id: str, region: str) -> list[dict[str, Any]]:
    """The configuration items recorded so far (GetResourceConfigHistory's shape), oldest first."""
    with _lock:
        return [dict(item) for item in _items(config_backends[account_id][region])]


def _flow_log_configuration(flow_log: Any) -> dict[str, Any]:
    """A flow log as DescribeFlowLogs shows it, in Config's key style (``resourceId``)."""
    configuration = {
        "flowLogId": flow_log.id,
        "resourceId": flow_log.resource_id,
        "trafficType": flow_log.traffic_type,
        "logDestinationType": flow_log.log_destination_type,
        "logDestination": flow_log.log_destination,
        "logGroupName": flow_log.log_group_name,
        "deliverLogsPermissionArn": flow_log.deliver_logs_permission_arn,
        "deliverLogsStatus": flow_log.deliver_logs_status,
        "flowLogStatus": flow_log.flow_log_status,
        "maxAggregationInterval": flow_log.max_aggregation_interval,
        "logFormat": flow_log.log_format,
    }
    return {key: value for key, value in configuration.items() if value is not None}


def _record_flow_log(backend: Any, flow_log_id: str, flow_log: Any | None) -> None:
    """Add a flow log's configuration item (None: deleted) to its account's and region's history."""
    now = time.time()
    config_backend = config_backends[backend.account_id][backend.region_name]
    item: dict[str, Any] = {
        "version": "1.3",
        "accountId": backend.account_id,
        "configurationItemCaptureTime": now,
        "configurationItemStatus": "ResourceDiscovered" if flow_log else "ResourceDeleted",
        "configurationStateId": str(int(now * 1000)),
        "arn": f"arn:{backend.partition}:ec2:{backend.region_name}:{backend.account_id}:"
        f"vpc-flow-log/{flow_log_id}",
        "resourceType": FLOW_LOG_RESOURCE_TYPE,
        "resourceId": flow_log_id,
        "awsRegion": backend.region_name,
        "availabilityZone": "Regional",
        "tags": {},
        "relatedEvents": [],
        "relationships": [],
        "supplementaryConfiguration": {},
    }
    if flow_log is not None:
        item["configuration"] = json.dumps(_flow_log_configuration(flow_log))
    with _lock:
        _items(config_backend).append(item)


def _recording_create_flow_logs(original: Any) -> Any:
    def create_flow_logs(self: Any, *args: Any, **kwargs: Any) -> Any:
        created, unsuccessful = original(self, *args, **kwargs)
        for flow_log in created:
            _record_flow_log(self, flow_log.id, flow_log)
        return created, unsuccessful

    return create_flow_logs


def _recording_delete_flow_logs(original: Any) -> Any:
    def delete_flow_logs(self: Any, flow_log_ids: list[str]) -> None:
        original(self, flow_log_ids)  # raises, deleting nothing, if one is unknown
        for flow_log_id in flow_log_ids:
            _record_flow_log(self, flow_log_id, None)

    return delete_flow_logs


def _get_resource_config_history(original: Any) -> Any:
    def get_resource_config_history(self: Any) -> str:
        resource_type: str = self._get_param("resourceType")
        if resource_type != FLOW_LOG_RESOURCE_TYPE:
            return str(original(self))
        resource_id: str = self._get_param("resourceId")
        limit = int(self._get_param("limit") or 0) or HISTORY_DEFAULT_LIMIT
        if limit > HISTORY_MAX_LIMIT:
            raise InvalidLimitException(limit)
        earlier = self._get_param("earlierTime")
        later = self._get_param("laterTime")
        with _lock:
            items = [
                dict(item)
                for item in _items(self.config_backend)
                if item["resourceType"] == resource_type and item["resourceId"] == resource_id
            ]
        if not items:
            raise ResourceNotDiscoveredException(resource_type, resource_id)
        items = [
            item
            for item in items
            if (earlier is None or item["configurationItemCaptureTime"] >= float(earlier))
            and (later is None or item["configurationItemCaptureTime"] <= float(later))
        ]
        if self._get_param("chronologicalOrder") != "Forward":
            items.reverse()
        start = _index_token(self._get_param("nextToken"), len(items), InvalidNextTokenException())
        body: dict[str, Any] = {"configurationItems": items[start : start + limit]}
        if start + limit < len(items):
            body["nextToken"] = str(start + limit)
        return json.dumps(body)

    return get_resource_config_history


# --- logs -----------------------------------------------------------------------------------


def _describe_log_groups(original: Any) -> Any:
    def describe_log_groups(self: Any) -> str:
        identifiers: list[str] | None = self._get_param("logGroupIdentifiers")
        if identifiers is None:
            return str(original(self))
        if self._get_param("logGroupNamePrefix") or self._get_param("logGroupNamePattern"):
            raise InvalidParameterException(
                "logGroupIdentifiers cannot be combined with logGroupNamePrefix "
                "or logGroupNamePattern"
            )
        if not 1 <= len(identifiers) <= MAX_LOG_GROUP_IDENTIFIERS:
            raise InvalidParameterException(
                constraint=(f"Member must have length between 1 and {MAX_LOG_GROUP_IDENTIFIERS}"),
                parameter="logGroupIdentifiers",
                value=identifiers,
            )
        limit = int(self._get_param("limit") or MAX_LOG_GROUP_IDENTIFIERS)
        # Outside a cross-account monitoring account AWS accepts log group names only.
        groups = self.logs_backend.groups
        found = sorted(
            (groups[name] for name in set(identifiers) if name in groups),
            key=lambda group: group.name,
        )
        start = _index_token(
            self._get_param("nextToken"),
            len(found),
            InvalidParameterException("The specified nextToken is invalid."),
        )
        body: dict[str, Any] = {
            "logGroups": [group.to_describe_dict() for group in found[start : start + limit]]
        }
        if start + limit < len(found):
            body["nextToken"] = str(start + limit)
        return json.dumps(body)

    return describe_log_groups


# --- ec2 ------------------------------------------------------------------------------------


def _paginated(original: Any, key: str, *, min_results: int, max_results: int, clamp: bool) -> Any:
    """Page an EC2 Describe* answer by MaxResults / NextToken (no MaxResults: everything)."""

    def paginated(self: Any) -> Any:
        result = original(self)
        page_size = self._get_int_param("MaxResults")
        if page_size is None:
            return result
        if clamp:
            page_size = min(page_size, max_results)
        if not min_results <= page_size <= max_results:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Value ( {page_size} ) for parameter maxResults is invalid. "
                f"Expecting a value between {min_results} and {max_results}.",
            )
        items = result.result[key]
        start = _index_token(
            self._get_param("NextToken"),
            len(items),
            EC2ClientError("InvalidNextToken", "The token provided is invalid."),
        )
        result.result[key] = items[start : start + page_size]
        if start + page_size < len(items):
            result.result["NextToken"] = str(start + page_size)
        return result

    return paginated


def _create_flow_logs(original: Any) -> Any:
    """Look an S3 destination's bucket up by the bucket name, without the key prefix."""
    get_bucket = S3Backend.get_bucket

    def bucket_without_prefix(self: Any, bucket_name: str) -> Any:
        return get_bucket(self, bucket_name.split("/", 1)[0])

    def create_flow_logs(self: Any, *args: Any, **kwargs: Any) -> Any:
        with mock.patch.object(S3Backend, "get_bucket", bucket_without_prefix):
            return original(self, *args, **kwargs)

    return create_flow_logs


# --- sts ------------------------------------------------------------------------------------


def _assume_role(original: Any) -> Any:
    """AccessDenied for a role that does not exist in its account, as AWS answers."""

    def assume_role(self: Any, **kwargs: Any) -> Any:
        role_arn: str = kwargs["role_arn"]
        parts = role_arn.split(":", 5)
        account_id, partition = (parts[4], parts[1]) if len(parts) == 6 else ("", "")
        iam = iam_backends[account_id][partition] if account_id and partition else None
        if iam is None or not any(role.arn == role_arn for role in iam.get_roles()):
            raise STSClientError(
                "AccessDenied",
                f"User: arn:{partition or 'aws'}:iam::{self.account_id}:user/moto is not "
                f"authorized to perform: sts:AssumeRole on resource: {role_arn}",
            )
        return original(self, **kwargs)

    return assume_role


@contextmanager
def patch_moto() -> Iterator[None]:
    """Patch moto (in this process) to behave as AWS documents; undo on exit."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(ConfigResponse, "put_evaluations", _put_evaluations))
        stack.enter_context(
            mock.patch.object(
                ConfigResponse,
                "get_compliance_details_by_config_rule",
                _get_compliance_details_by_config_rule,
                create=True,
            )
        )
        stack.enter_context(
            mock.patch.object(
                LogsResponse,
                "describe_log_groups",
                _describe_log_groups(LogsResponse.describe_log_groups),
            )
        )
        stack.enter_context(
            mock.patch.object(
                VPCs,
                "describe_vpcs",
                _paginated(
                    VPCs.describe_vpcs, "Vpcs", min_results=5, max_results=1000, clamp=False
                ),
            )
        )
        stack.enter_context(
            mock.patch.object(
                FlowLogs,
                "describe_flow_logs",
                # "between 5 and 1000; if MaxResults is given a value larger than 1000, only 1000
                # results are returned" (EC2 API reference)
                _paginated(
                    FlowLogs.describe_flow_logs,
                    "FlowLogs",
                    min_results=5,
                    max_results=1000,
                    clamp=True,
                ),
            )
        )
        stack.enter_context(
            mock.patch.object(
                FlowLogsBackend,
                "create_flow_logs",
                _recording_create_flow_logs(_create_flow_logs(FlowLogsBackend.create_flow_logs)),
            )
        )
        stack.enter_context(
            mock.patch.object(
                FlowLogsBackend,
                "delete_flow_logs",
                _recording_delete_flow_logs(FlowLogsBackend.delete_flow_logs),
            )
        )
        stack.enter_context(
            mock.patch.object(
                ConfigResponse,
                "get_resource_config_history",
                _get_resource_config_history(ConfigResponse.get_resource_config_history),
            )
        )
        stack.enter_context(
            mock.patch.object(STSBackend, "assume_role", _assume_role(STSBackend.assume_role))
        )
        stack.enter_context(patch_logs())
        try:
            yield
        finally:
            with _lock:
                _issued_rule_names.clear()

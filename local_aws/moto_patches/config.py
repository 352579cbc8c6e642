"""AWS Config as AWS documents it where moto 5.2 differs or stops short.

- ``PutEvaluations`` records evaluations without ``TestMode`` (moto raises NotImplementedError),
  accepts an empty list, and rejects what AWS rejects: more than 100 evaluations, annotations over
  256 characters, an unknown result token. With ``TestMode`` it records nothing, as AWS does.
- ``GetComplianceDetailsByConfigRule`` (not implemented in moto) returns the recorded evaluations:
  the latest per resource (by ``OrderingTimestamp``), filtered by compliance type, paged with
  ``Limit`` (default 10, at most 100) and ``NextToken``.
- ``AWS::EC2::FlowLog`` is recorded as a recorder that records the type does: each flow log moto
  creates or deletes adds a configuration item (``ResourceDiscovered`` with the flow log's
  configuration, ``ResourceDeleted`` without), and ``GetResourceConfigHistory`` returns them
  (newest first unless ``chronologicalOrder=Forward``, ``limit`` default 10, at most 100,
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
from moto.ec2.models.flow_logs import FlowLogsBackend

from local_aws.moto_patches._paging import index_token

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_EVALUATIONS_PER_CALL = 100
MAX_ANNOTATION_LENGTH = 256
COMPLIANCE_DETAILS_DEFAULT_LIMIT = 10
COMPLIANCE_DETAILS_MAX_LIMIT = 100
FILTERABLE_COMPLIANCE_TYPES = frozenset({"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"})
FLOW_LOG_RESOURCE_TYPE = "AWS::EC2::FlowLog"
HISTORY_DEFAULT_LIMIT = 10
HISTORY_MAX_LIMIT = 100

_ISSUER = "local_aws.moto_patches"
_STORE_ATTRIBUTE = "_moto_patches_evaluations"  # lives on moto's config backend: reset with it
_HISTORY_ATTRIBUTE = "_moto_patches_configuration_items"  # likewise

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


# --- evaluations ----------------------------------------------------------------------------


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

    start = index_token(self._get_param("NextToken"), len(rows), InvalidNextTokenException())
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


# --- configuration items of AWS::EC2::FlowLog -----------------------------------------------


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
        start = index_token(self._get_param("nextToken"), len(items), InvalidNextTokenException())
        body: dict[str, Any] = {"configurationItems": items[start : start + limit]}
        if start + limit < len(items):
            body["nextToken"] = str(start + limit)
        return json.dumps(body)

    return get_resource_config_history


@contextmanager
def patched() -> Iterator[None]:
    """The AWS Config patches, undone on exit (with the result tokens issued meanwhile).

    The recorder wraps whatever ``FlowLogsBackend`` has when entered, so it records what the EC2
    patches let through: enter it after them.
    """
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
                FlowLogsBackend,
                "create_flow_logs",
                _recording_create_flow_logs(FlowLogsBackend.create_flow_logs),
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
        try:
            yield
        finally:
            with _lock:
                _issued_rule_names.clear()

"""AWS Config custom rule: does every VPC have a flow log that does its job?

Entry point ``vpc_flow_logs_rule.handler.lambda_handler``. It validates the rule parameters, looks
up what the notification needs, reports the evaluations and logs how many of each it reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Specific modules, not package roots: importing the handler stays cheap on a cold start.
from aws_lambda_powertools.logging.logger import Logger
from aws_lambda_powertools.utilities.data_classes.aws_config_rule_event import AWSConfigRuleEvent
from aws_lambda_powertools.utilities.data_classes.event_source import event_source

from vpc_flow_logs_rule import notifications, rule
from vpc_flow_logs_rule.aws_api import AwsApi
from vpc_flow_logs_rule.model import TEST_MODE_TOKEN
from vpc_flow_logs_rule.parameters import parse_parameters

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context
@event_source(data_class=AWSConfigRuleEvent)
def lambda_handler(event: AWSConfigRuleEvent, context: LambdaContext) -> dict[str, int]:
    parameters = parse_parameters(notifications.rule_parameters(event))
    message_type = notifications.message_type(event)
    api = AwsApi()
    if message_type == notifications.SCHEDULED:
        evaluations = rule.evaluate_scheduled(
            api,
            parameters,
            rule_name=event.config_rule_name,
            account_id=event.accountid,
            ordering_timestamp=notifications.notification_time(event),
        )
    else:
        evaluations = rule.evaluate_change(
            api, parameters, notifications.changed_resource(event), account_id=event.accountid
        )
    api.put_evaluations(evaluations, event.result_token)
    counts = rule.summarize(evaluations)
    logger.info(
        "Evaluations reported",
        extra={
            "message_type": message_type,
            "config_rule_name": event.config_rule_name,
            "test_mode": event.result_token == TEST_MODE_TOKEN,
            "evaluations": counts,
            "aws_calls": dict(api.calls),
        },
    )
    return counts

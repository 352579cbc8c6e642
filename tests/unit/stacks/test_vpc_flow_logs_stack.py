import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.vpc_flow_logs_stack import VpcFlowLogsStack


def test_stack_synthesizes() -> None:
    app = cdk.App()
    stack = VpcFlowLogsStack(app, "Test")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 0)

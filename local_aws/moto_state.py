"""moto's in-process backends, read as AWS would read them when it authorizes a request.

The callers of an access key (a role for an assumed-role session, a user for a user's key) and
the state :mod:`local_aws.iam_requests` needs: tags of EC2 resources, flow logs, roles and log
groups, a role's permissions boundary, a Config rule's ARN. Only reads; nothing here changes
moto. The embedded AWS runs moto's server in this process, so these are the server's backends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.config.models import config_backends
from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.sts.models import sts_backends

from local_aws.iam_requests import FlowLogState

if TYPE_CHECKING:
    from collections.abc import Mapping

    from moto.iam.models import Role


class MotoState:
    """The resources of one account and region of moto (a :class:`ResourceState`)."""

    def __init__(self, account_id: str, region: str, partition: str = "aws") -> None:
        self.account_id = account_id
        self.region = region
        self.partition = partition

    # -- identities ---------------------------------------------------------------------------

    def role_of_access_key(self, access_key_id: str) -> str | None:
        """The ARN of the role whose session ``access_key_id`` belongs to, if it is one."""
        sts = sts_backends[self.account_id][self.partition]
        assumed = sts.get_assumed_role_from_access_key(access_key_id)
        return None if assumed is None else str(assumed.role_arn)

    def user_of_access_key(self, access_key_id: str) -> str | None:
        """The ARN of the IAM user that owns ``access_key_id``, if one does."""
        iam = iam_backends[self.account_id][self.partition]
        for user in iam.users.values():
            if access_key_id in {key.access_key_id for key in user.access_keys}:
                return str(user.arn)
        return None

    # -- ResourceState ------------------------------------------------------------------------

    def ec2_tags(self, resource_id: str) -> Mapping[str, str]:
        return dict(ec2_backends[self.account_id][self.region].tags.get(resource_id, {}))

    def flow_log(self, flow_log_id: str) -> FlowLogState | None:
        found = ec2_backends[self.account_id][self.region].flow_logs.get(flow_log_id)
        if found is None:
            return None
        return FlowLogState(
            tags=self.ec2_tags(flow_log_id), destination_type=str(found.log_destination_type)
        )

    def role_path(self, role_name: str) -> str:
        role = self._role(role_name)
        return "/" if role is None else str(role.path)

    def role_tags(self, role_name: str) -> Mapping[str, str]:
        role = self._role(role_name)
        if role is None:
            return {}
        stored: Any = role.tags  # a dict by key at run time, though annotated as a list
        tags = stored.values() if isinstance(stored, dict) else stored
        return {str(tag["Key"]): str(tag["Value"]) for tag in tags}

    def role_boundary(self, role_name: str) -> str | None:
        role = self._role(role_name)
        return None if role is None else role.permissions_boundary_arn

    def log_group_tags(self, log_group_arn: str) -> Mapping[str, str]:
        logs = logs_backends[self.account_id][self.region]
        return dict(logs.list_tags_for_resource(log_group_arn.removesuffix(":*")))

    def config_rule_arn(self, rule_name: str) -> str | None:
        rule = config_backends[self.account_id][self.region].config_rules.get(rule_name)
        return None if rule is None else str(rule.config_rule_arn)

    def _role(self, role_name: str) -> Role | None:
        iam = iam_backends[self.account_id][self.partition]
        for role in iam.roles.values():
            if role.name == role_name:
                return role
        return None

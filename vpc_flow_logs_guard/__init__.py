"""``vpc-flow-logs-guard``: judge VPCs with the rule's own code, before or after deploying it.

- ``audit``: reads the caller's account (or every account of the organization through a role)
  and judges every VPC with :mod:`vpc_flow_logs_rule.decision`, with the deployed rule's
  parameters (``cdk.json`` and ``-c key=value``).
- ``report``: reads the rule's results for the whole organization from an AWS Config
  aggregator.

Read-only: the only writes anywhere are the files given with ``--output``.
"""

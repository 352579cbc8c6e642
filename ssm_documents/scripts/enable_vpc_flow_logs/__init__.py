"""The scripts of the ``enable_vpc_flow_logs`` runbook: one module per step, and what they share.

Each ``aws:executeScript`` step of ``ssm_documents/enable_vpc_flow_logs.yaml`` runs one phase
module (``check_input``, ``delivery_role``, ``log_group``, ``flow_log``, ``verify``), its
``handler`` called by SSM as ``handler(events, context)``. The build embeds the step's module
after the shared modules it imports (``common`` first), without the imports between them, so
each step's script runs standalone on the standard library and boto3. Here they are ordinary
modules: linted, typed, and tested with ``run(events, session)``, which takes the boto3 session
the clients come from.
"""

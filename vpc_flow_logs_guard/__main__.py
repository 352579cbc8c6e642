"""``python -m vpc_flow_logs_guard``: the same as the ``vpc-flow-logs-guard`` command."""

from vpc_flow_logs_guard.cli import main

raise SystemExit(main())

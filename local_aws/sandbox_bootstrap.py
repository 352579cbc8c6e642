"""Bootstrap run inside a sandbox (``python -I -S``): standard library only, like a runtime's.

Usage: ``sandbox_bootstrap.py MODE REQUEST_JSON ANSWER_JSON SEARCH_PATH``

* ``lambda``: import the handler named like Lambda's ``Handler`` (``package.module.function``)
  from the code on SEARCH_PATH, call it with the event and a Lambda context object;
* ``ssm-script``: load an ``aws:executeScript`` step's script text as a module and call its
  handler with ``(events, context)``, ``context`` being the dict SSM passes.

The answer is ``{"result": ...}`` or ``{"error": {"errorType", "errorMessage", "stackTrace"}}``,
written to a file so that what the code prints (logs, metrics) stays out of it, plus
``"modules"``: the file each module named in the request's ``report_modules`` was imported from.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from typing import Any

_MODES = ("lambda", "ssm-script")
_ARGUMENTS = 5


class LambdaContext:
    """The attributes and method of the context object Lambda's Python runtime passes."""

    def __init__(self, fields: dict[str, Any], deadline_ms: int) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields["function_version"]
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: str = fields["memory_limit_in_mb"]
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self.identity: object | None = None
        self.client_context: object | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def _error(error_type: str, error: BaseException) -> dict[str, Any]:
    return {
        "errorType": error_type,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(type(error), error, error.__traceback__),
    }


def _run_lambda(request: dict[str, Any]) -> dict[str, Any]:
    module_name, _, function_name = str(request["handler"]).rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - reported as Lambda reports it
        return {"error": _error("Runtime.ImportModuleError", error)}
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return {"error": _error("Runtime.HandlerNotFound", AttributeError(message))}
    deadline_ms = int(time.time() * 1000) + int(request["timeout_seconds"]) * 1000
    context = LambdaContext(request["context"], deadline_ms)
    try:
        result = handler(request["event"], context)
    except Exception as error:  # noqa: BLE001 - reported as Lambda reports it
        return {"error": _error(type(error).__name__, error)}
    return {"result": result}


def _run_ssm_script(request: dict[str, Any]) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("script", request["script_path"])
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {request['script_path']}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does (dataclasses look the module up)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - reported as a failed step
        return {"error": _error(type(error).__name__, error)}
    handler = getattr(module, str(request["handler"]), None)
    if handler is None:
        message = f"the script has no function {request['handler']}"
        return {"error": _error("HandlerNotFound", AttributeError(message))}
    try:
        result = handler(request["events"], request["context"])
    except Exception as error:  # noqa: BLE001 - reported as a failed step
        return {"error": _error(type(error).__name__, error)}
    return {"result": result}


def _module_files(names: list[str]) -> dict[str, str | None]:
    """Where each module was imported from; None if the code did not import it."""
    return {name: getattr(sys.modules.get(name), "__file__", None) for name in names}


def main(argv: list[str]) -> int:
    if len(argv) != _ARGUMENTS or argv[1] not in _MODES:
        sys.stderr.write(__doc__ or "")
        return 2
    mode, request_path, answer_path, search_path = argv[1:]
    sys.path[:0] = [entry for entry in search_path.split(os.pathsep) if entry]
    with open(request_path, encoding="utf-8") as request_file:
        request = json.load(request_file)
    answer = _run_lambda(request) if mode == "lambda" else _run_ssm_script(request)
    answer["modules"] = _module_files(request.get("report_modules", []))
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError) as error:
        text = json.dumps({"error": _error("Runtime.MarshalError", error)})
    with open(answer_path, "w", encoding="utf-8") as answer_file:
        answer_file.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

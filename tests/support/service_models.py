"""Hold requests to the AWS SDK that will actually send them, not only to the one installed here.

The Lambda runtime and SSM's ``aws:executeScript`` bring their own boto3, older than ours. A
request that validates against our botocore can fail there with ``ParamValidationError``. This
module records the requests a piece of code makes (service, operation, parameters) and validates
each against the service models of a given botocore release, with botocore's own validator.

Releases other than the installed one are fetched once from PyPI as plain data (the wheel's
``botocore/data`` folder, nothing imported from it) into ``.venv/botocore-models/<version>``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from unittest import mock

import botocore
import botocore.client
import botocore.loaders
import botocore.model
import botocore.validate

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

ROOT: Final = Path(__file__).resolve().parents[2]
CACHE: Final = ROOT / ".venv" / "botocore-models"


@dataclass(frozen=True)
class ApiRequest:
    """One request as the code passed it to a client (before botocore fills anything in)."""

    service: str
    """The client's service name, e.g. ``logs``."""
    operation: str
    """The operation name, e.g. ``DescribeLogGroups``."""
    params: Mapping[str, Any]


@contextmanager
def recording() -> Iterator[list[ApiRequest]]:
    """Record every request any botocore client makes in this process while the block runs.

    A request is recorded as botocore validates it: after the ``before-parameter-build``
    handlers, so aliases such as EC2's ``Filters`` (for the model's ``Filter``) are resolved as
    every botocore release resolves them. Paginators' pages are recorded one by one.
    """
    requests: list[ApiRequest] = []
    original = vars(botocore.client.BaseClient)["_make_api_call"]
    clients: list[botocore.client.BaseClient] = []

    def on_build(params: Any, model: botocore.model.OperationModel, **_: Any) -> None:
        requests.append(ApiRequest(model.service_model.service_name, model.name, dict(params)))

    def call(client: botocore.client.BaseClient, operation: str, params: Any) -> Any:
        if not any(seen is client for seen in clients):
            clients.append(client)
            client.meta.events.register_last(
                "before-parameter-build", on_build, unique_id=_HANDLER_ID
            )
        return original(client, operation, params)

    try:
        with mock.patch.object(botocore.client.BaseClient, "_make_api_call", call):
            yield requests
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build", unique_id=_HANDLER_ID)


_HANDLER_ID: Final = "tests.support.service_models.recording"


class ServiceModels:
    """The service models of one botocore release."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._loader = botocore.loaders.Loader(
            extra_search_paths=[str(data_folder(version))], include_default_search_paths=False
        )

    @cache  # noqa: B019 - a handful of instances, kept for the session
    def service(self, name: str) -> botocore.model.ServiceModel:
        return botocore.model.ServiceModel(
            self._loader.load_service_model(name, "service-2"), service_name=name
        )

    def problems(self, request: ApiRequest) -> list[str]:
        """Why this release would refuse the request on the client side; empty when it would not."""
        where = f"botocore {self.version}: {request.service}.{request.operation}"
        service = self.service(request.service)
        if request.operation not in service.operation_names:
            return [f"{where}: no such operation"]
        shape = service.operation_model(request.operation).input_shape
        if shape is None:
            return [f"{where}: takes no parameters"] if request.params else []
        report = botocore.validate.ParamValidator().validate(dict(request.params), shape)
        return [f"{where}: {line}" for line in report.generate_report().splitlines() if line]


def data_folder(version: str) -> Path:
    """``botocore/data`` of ``version``: the installed one's, or a copy fetched from PyPI."""
    if version == botocore.__version__:
        return Path(botocore.__file__).parent / "data"
    target = CACHE / version
    if not (target / "ec2").is_dir():
        _fetch(version, target)
    return target


def _fetch(version: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(  # noqa: S603 - this interpreter's pip, a pinned version
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                f"botocore=={version}",
                "--no-deps",
                "--only-binary=:all:",
                "--quiet",
                "--disable-pip-version-check",
                "--dest",
                scratch,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        (wheel,) = Path(scratch).glob("botocore-*.whl")
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.startswith("botocore/data/")]
            archive.extractall(partial, members)
        target.parent.mkdir(parents=True, exist_ok=True)
        (partial / "botocore" / "data").rename(target)
        shutil.rmtree(partial)

"""import-linter contract types of our own, registered in pyproject.toml's
``[tool.importlinter]`` as ``contract_types``.

``standard_library_only``: modules that import only the standard library and a few named
distributions (the runbook's script: what ``aws:executeScript`` provides). import-linter's own
``forbidden`` contract lists what may not be imported; this one lists what may, so an import of
anything new (a package, or the project's own code) breaks it.

``no_test_module_imports``: no module imports a test module or a ``conftest``; what tests share
lives in helper modules. import-linter's own module expressions cannot say "a module whose name
starts with ``test_``" (a wildcard stands for a whole name).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from importlinter import Contract, ContractCheck, fields, output

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from grimp import ImportGraph


def _top_level(module: str) -> str:
    return module.split(".", 1)[0]


def _imports_refused(
    graph: ImportGraph, sources: Iterable[Any], refused: Callable[[str, str], bool]
) -> ContractCheck:
    """Every direct import by ``sources`` (and their submodules) that ``refused(source name,
    imported module)`` refuses, with its line numbers; kept if there is none."""
    violations: list[dict[str, object]] = []
    for source in sources:
        for importer in sorted({source.name} | graph.find_descendants(source.name)):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if not refused(source.name, imported):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                violations.append(
                    {
                        "importer": importer,
                        "imported": imported,
                        "lines": sorted(detail["line_number"] for detail in details),
                    }
                )
    return ContractCheck(kept=not violations, metadata={"violations": violations})


def _render(check: ContractCheck, why: str) -> None:
    for violation in check.metadata["violations"]:
        lines = ", ".join(f"l.{number}" for number in violation["lines"])
        output.print_error(
            f"{violation['importer']} imports {violation['imported']} ({lines}): {why}"
        )
        output.new_line()


def is_test_module(module: str) -> bool:
    """A module pytest collects (``test_*.py``, ``*_test.py``, its default ``python_files``)
    or loads itself (``conftest.py``)."""
    name = module.rsplit(".", 1)[-1]
    return name.startswith("test_") or name.endswith("_test") or name == "conftest"


class StandardLibraryOnlyContract(Contract):
    """``source_modules`` (and their submodules) import only the standard library and
    ``allowed_external_packages``. Needs ``include_external_packages = true``, so that imports of
    installed packages are in the graph; imports under ``TYPE_CHECKING`` count unless
    ``exclude_type_checking_imports = true``."""

    type_name = "standard_library_only"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_external_packages = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        allowed = set(sys.stdlib_module_names) | {"__future__"}
        allowed |= set(self.allowed_external_packages or [])  # type: ignore[arg-type]
        return _imports_refused(
            graph,
            self.source_modules,  # type: ignore[arg-type]
            lambda source, imported: _top_level(imported) not in allowed | {_top_level(source)},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        allowed = ", ".join(sorted(self.allowed_external_packages or []))  # type: ignore[arg-type]
        _render(check, f"only the standard library and {allowed or 'nothing else'} are allowed")


class NoTestModuleImportsContract(Contract):
    """No module of ``source_modules`` (or below) imports a test module or a ``conftest``.

    pytest imports each test module itself; one that another module imports is a helper module
    too, and a reader cannot tell its helpers from its tests. Helpers, constants and builders go
    in modules named for what they hold, fixtures in a ``conftest.py``. Imports under
    ``TYPE_CHECKING`` are not in the graph (``exclude_type_checking_imports``): not judged.
    """

    type_name = "no_test_module_imports"

    source_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        return _imports_refused(
            graph,
            self.source_modules,  # type: ignore[arg-type]
            lambda _source, imported: is_test_module(imported),
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        _render(
            check,
            "test modules and conftests are pytest's to import; move what is shared into a "
            "helper module (fixtures into a conftest.py)",
        )

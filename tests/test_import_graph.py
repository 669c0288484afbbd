"""The import graph runs one way: integration/ uses connectors/, oauth/ and reminders/, none of
them imports integration/, only connectors/ and oauth/ import a provider's SDK, and no product
package imports what only the test extra installs.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOWER_PACKAGES = ("connectors", "oauth", "reminders")
PROVIDER_SDKS = ("quickbooks", "intuitlib", "xero_python")
SDK_PACKAGES = ("connectors", "oauth")
PRODUCT_PACKAGES = ("integration", *LOWER_PACKAGES)
# Installed only by the test extra (pyproject.toml): product code importing one breaks a plain install.
TEST_ONLY = ("pytest", "responses", "hypothesis", "playwright", "openapi_core", "jsonschema", "yaml")


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("package", LOWER_PACKAGES)
def test_lower_packages_never_import_integration(package: str) -> None:
    back = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(package)
        for line, module in imported_modules(path)
        if top(module) == "integration"
    ]
    assert back == []


@pytest.mark.parametrize("package", ("integration", "reminders"))
def test_only_connectors_and_oauth_import_a_provider_sdk(package: str) -> None:
    assert package not in SDK_PACKAGES
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(package)
        for line, module in imported_modules(path)
        if top(module) in PROVIDER_SDKS
    ]
    assert found == []


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_product_packages_never_import_a_test_only_package(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(package)
        for line, module in imported_modules(path)
        if top(module) in TEST_ONLY
    ]
    assert found == []


def test_the_checks_see_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from integration.store import models\n    import xero_python.api_client\n")
    assert [name for _, name in imported_modules(module)] == ["integration.store", "xero_python.api_client"]

"""Issue 10 item 7: layers point one way. The client layer imports no service (the token
provider is wired in one place, connector.apps), and the core imports no outer app."""

from __future__ import annotations

import ast
from pathlib import Path

import connector

CONNECTOR = Path(connector.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_client_layer_imports_no_service():
    offenders = {
        str(path.relative_to(CONNECTOR)): sorted(m for m in imported_modules(path) if m.startswith("connector.services"))
        for path in (CONNECTOR / "clients").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_imports_no_outer_app():
    outer = ("workflows", "settings_ui")
    offenders = {
        str(path.relative_to(CONNECTOR)): sorted(m for m in imported_modules(path) if m.split(".")[0] in outer)
        for path in CONNECTOR.rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_clients_get_their_tokens_from_the_token_service():
    from connector.clients import factories
    from connector.services import tokens

    assert factories._token_provider() is tokens

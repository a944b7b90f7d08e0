"""The packages of judging/ import one way only (README, "Architecture").

Each package sits on a layer; a module may import a package of its own layer or below,
never above. The top of each domain is exempt, as STYLE.md orders a domain's own modules
(enums → models → services/queries → forms → views): a package's ``views`` may show what
any package knows. Imports under ``if TYPE_CHECKING:`` are annotations, not imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "judging"

#: Bottom to top. A package may import the packages at or below its own layer.
LAYERS = [
    {"ranking"},
    {"common", "extensions", "config"},
    {"auth"},
    {"contests"},
    {"entries"},
    {"judges"},
    {"scoring"},
    {"standings"},
    {"live"},
    {"awards"},
    {"audit", "leaderboard", "imports"},
    {"exports"},
    {"seed"},
]
LEVEL = {package: n for n, layer in enumerate(LAYERS) for package in layer}
#: Modules at the top of the app: the factory, the model registry, the commands.
TOP = {"__init__", "models", "cli"}
#: A domain's own top modules (its pages), which may import any package.
EXEMPT_MODULES = {"views"}
#: Pure code imports nothing of the app but itself: the ranking engine (STYLE.md).
PURE = {"ranking"}


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every ``judging`` import outside ``if TYPE_CHECKING:``."""
    found = []

    def visit(node, typing_only=False):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if not typing_only:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "judging":
                    found.extend((node.lineno, f"judging.{a.name}") for a in node.names)
                elif node.module.startswith("judging."):
                    found.append((node.lineno, node.module))
            elif isinstance(node, ast.Import):
                found.extend(
                    (node.lineno, a.name) for a in node.names if a.name.startswith("judging.")
                )
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree)
    return found


def violations(root: Path = ROOT) -> list[str]:
    """Every import that goes up a layer, as ``file:line: package → package``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        package = parts[0] if len(parts) > 1 else path.stem
        if package in TOP or path.stem in EXEMPT_MODULES:
            continue
        level = LEVEL[package]
        for line, module in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = module.split(".")[1]
            if target == package:
                continue
            if package in PURE or target not in LEVEL or LEVEL[target] > level:
                found.append(f"{path.relative_to(root)}:{line}: {package} → {target}")
    return found


def test_every_package_of_the_app_has_a_layer():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in ROOT.glob("*.py")}
    assert packages | modules - TOP <= set(LEVEL) | TOP


def test_imports_go_down_the_layers_only():
    assert violations() == []


def test_the_rule_fails_on_an_import_that_goes_up(tmp_path):
    """A contests module that imports scoring (as contests.standings once did) is caught."""
    (tmp_path / "contests").mkdir()
    (tmp_path / "contests" / "queries.py").write_text(
        "from judging.scoring.models import ScoreSheet\n", encoding="utf-8"
    )
    (tmp_path / "contests" / "views.py").write_text(
        "from judging.scoring.models import ScoreSheet\n", encoding="utf-8"
    )
    (tmp_path / "ranking").mkdir()
    (tmp_path / "ranking" / "rules.py").write_text(
        "from judging.common.numbers import plain\n", encoding="utf-8"
    )
    assert violations(tmp_path) == [
        "contests/queries.py:1: contests → scoring",
        "ranking/rules.py:1: ranking → common",
    ]

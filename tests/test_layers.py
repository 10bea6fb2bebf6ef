"""The import graph points only down the declared layers, and has no cycle (issue 19).

Every ``.py`` file of ``harness/``, ``analysis/`` and ``hydra_plugins/`` is parsed with ``ast``; each
``import``/``from ... import`` of a first-party module (at module level or inside a function; those
under ``if TYPE_CHECKING:`` are not run and do not count) is an edge from the importing module to
the most specific module named. A module's layer is that of the longest prefix in :data:`LAYERS`
that names it; an edge may stay in its layer or go down, never up. Separately, the graph of
modules has no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("harness", "analysis", "hydra_plugins")

#: Lowest first. A module may import only from its own layer or a lower one.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("harness", "harness.contract", "harness.errors", "harness.plain", "harness.validation")),
    ("run dir", ("harness.run",)),
    ("losses, grading, problems", ("harness.methods", "harness.grading", "harness.problems")),
    ("config schemas", ("harness.config",)),
    ("evaluation", ("harness.eval",)),
    ("training (the TRL adapter)", ("harness.training",)),
    ("sweeps", ("harness.sweeps",)),
    ("entry points", ("harness.train", "harness.eval.__main__", "hydra_plugins")),
    ("verl adapter (harness-verl, composes the training entry point's config)", ("harness.verl",)),
    ("analysis", ("analysis",)),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for root in ROOTS for p in sorted((REPO / root).rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            yield from (n for stmt in child.orelse for n in [stmt, *_walk(stmt)])
            continue
        yield child
        yield from _walk(child)


def imports(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported first-party module, line) for every runtime import in ``path``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ROOTS:
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                if target in known:  # not e.g. hydra_plugins.hydra_submitit_launcher (installed)
                    yield target, node.lineno


def layer(name: str) -> int:
    best = max(
        (
            (len(p), i)
            for i, (_, prefixes) in enumerate(LAYERS)
            for p in prefixes
            if name == p or name.startswith(p + ".")
        ),
        default=None,
    )
    assert best is not None, f"{name}: in no layer of LAYERS; add it"
    return best[1]


def graph() -> dict[str, list[tuple[str, int]]]:
    found = modules()
    return {name: sorted(set(imports(name, path, set(found)))) for name, path in found.items()}


def test_every_import_stays_in_its_layer_or_goes_down() -> None:
    upward = [
        f"{src} ({LAYERS[layer(src)][0]}) imports {dst} ({LAYERS[layer(dst)][0]}) at line {line}"
        for src, edges in graph().items()
        for dst, line in edges
        if layer(dst) > layer(src)
    ]
    assert upward == []


def test_the_import_graph_has_no_cycle() -> None:
    edges = {src: {dst for dst, _ in out if dst != src} for src, out in graph().items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checker_sees_an_upward_import() -> None:
    """The walk finds lazy imports inside functions (the ones that used to run up the layers)."""
    found = modules()
    edges = dict(imports("harness.problems.arith", found["harness.problems.arith"], set(found)))
    assert "harness.problems.prompt" in edges
    assert layer("harness.run.run_dir") < layer("harness.config.schema") < layer("harness.training.execute")
    assert layer("harness.eval.__main__") > layer("harness.training.models") > layer("harness.eval.runner")

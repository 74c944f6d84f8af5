"""The core is layered: no module of symbolic/, numeric/ or proofs_check/ imports, directly or
through others, a module that imports it back. Read from the sources (every import statement,
inside functions too, relative or absolute), with each module named as installed:
mesacheck.symbolic.*, mesacheck.numeric.*, mesacheck.proofs_check.*, and proofs_check/api as
``mesacheck`` itself (pyproject.toml's package-dir mapping)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {  # folder -> installed name; the api folder is mesacheck itself
    "proofs_check/api": "mesacheck",
    "symbolic": "mesacheck.symbolic",
    "numeric": "mesacheck.numeric",
    "proofs_check": "mesacheck.proofs_check",
}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """{installed module name: source file} for every module of the three packages."""
    out: dict[str, Path] = {}
    for folder, name in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root / folder).with_suffix("").parts
            if folder == "proofs_check" and relative[0] == "api":
                continue  # installed as mesacheck
            parts = [name, *relative]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The known modules that ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            candidates = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:  # a name inside a module: the module
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                found.add(candidate)
    return found


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan), or a module that
    imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                out.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path):
    for folder in ("symbolic", "numeric", "proofs_check/api", "proofs_check"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "symbolic/low.py").write_text("def f():\n    from .high import g\n")
    (tmp_path / "symbolic/high.py").write_text("from mesacheck.symbolic import middle\n")
    (tmp_path / "symbolic/middle.py").write_text("from . import low\n")
    (tmp_path / "numeric/fine.py").write_text("from mesacheck.symbolic.low import f\n")
    graph = import_graph(tmp_path)
    planted = {"mesacheck.symbolic.low", "mesacheck.symbolic.high", "mesacheck.symbolic.middle"}
    assert cycles(graph) == [planted]
    assert planted <= reachable(graph, "mesacheck.numeric.fine")  # through an import inside a function
    (tmp_path / "symbolic/middle.py").write_text("import sympy\n")
    assert cycles(import_graph(tmp_path)) == []


def test_no_module_imports_itself_back():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in found)


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every module that ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = list(edges[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += edges[module]
    return seen


def test_the_sweep_the_costs_and_the_verbs_sit_below_the_command_line():
    graph = import_graph()
    cli = "mesacheck.proofs_check.cli"
    below = [
        name
        for name in graph
        if name.startswith("mesacheck.proofs_check.verbs")
        or name in ("mesacheck.proofs_check.sweep", "mesacheck.proofs_check.costs")
    ]
    assert "mesacheck.proofs_check.sweep" in below and "mesacheck.proofs_check.verbs.limit" in below
    for name in below:
        reached = reachable(graph, name)
        assert not any(m == cli or m.startswith(cli + ".") for m in reached), (name, sorted(reached))

"""proofs_check is layered: read from every import statement in its source (those inside
functions too), no module imports, directly or through others, a module that imports it back;
the sweep and the verbs sit below the command line."""

import ast
from pathlib import Path

import mesacheck.proofs_check

ROOT = Path(mesacheck.proofs_check.__file__).parent
PACKAGE = "mesacheck.proofs_check"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, source: str, is_package: bool, known) -> set[str]:
    """The modules of ``known`` that ``name`` imports anywhere in its source."""
    package = name if is_package else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {c for c in candidates if c in known and c != name}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _imports(name, path.read_text(), path.name == "__init__.py", modules)
        for name, path in modules.items()
    }


def _reachable(graph, start) -> set[str]:
    seen, todo = set(), list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += graph[module]
    return seen


def test_no_module_of_proofs_check_imports_itself_back():
    graph = _graph()
    assert len(graph) > 30  # the scan found the package
    cycles = sorted(name for name in graph if name in _reachable(graph, name))
    assert not cycles, f"modules on an import cycle: {cycles}"


def test_the_sweep_and_the_verbs_do_not_reach_the_command_line():
    graph = _graph()
    below = [
        name
        for name in graph
        if name.startswith(f"{PACKAGE}.verbs") or name in (f"{PACKAGE}.sweep", f"{PACKAGE}.costs")
    ]
    assert f"{PACKAGE}.sweep" in below and f"{PACKAGE}.verbs.limit" in below
    for name in below:
        reached = _reachable(graph, name) | {name}
        assert not any(m.startswith(f"{PACKAGE}.cli") for m in reached), (name, sorted(reached))


def test_the_scan_sees_an_import_inside_a_function():
    # the import the sweep had before it was handed the command group
    source = "def run_point(argv):\n    from .cli import main\n"
    known = {f"{PACKAGE}.cli", f"{PACKAGE}.sweep"}
    assert _imports(f"{PACKAGE}.sweep", source, False, known) == {f"{PACKAGE}.cli"}

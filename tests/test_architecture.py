"""The shape of the package, read from its own import statements (ast, nothing imported):
no import cycles between modules, no private name imported from another module, no module
over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "curate"
MAX_LINES = 400


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """{dotted name: file}; a package is named by its folder (curate.stages.ingest)."""
    out = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import in the file, those
    inside functions too: a lazy import is still a dependency."""
    found = []
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, up level-1 more
                base = name.split(".")[: len(name.split(".")) - node.level + is_package]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.append((submodule, None) if submodule in known else (source, alias.name))
    return [(target, taken) for target, taken in found if target in known and target != name]


def graph(known: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Module -> modules it imports; and every `a <- b._private` import across modules."""
    edges, private = {}, []
    for name, path in known.items():
        found = imports(name, path, known)
        edges[name] = {target for target, _ in found}
        private += [
            f"{name} <- {target}.{taken}"
            for target, taken in found
            if taken and taken.startswith("_") and not taken.startswith("__")
        ]
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checks_see_a_cycle_and_a_private_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg.a import _hidden\n")
    edges, private = graph(modules(pkg))
    assert cycles(edges) == [["pkg.a", "pkg.sub.b"]]
    assert private == ["pkg.sub.b <- pkg.a._hidden"]


def test_no_import_cycles():
    edges, _ = graph(modules())
    assert len(edges) > 40  # the walk found the package
    assert cycles(edges) == []


def test_no_private_names_imported_across_modules():
    _, private = graph(modules())
    assert private == []


def test_no_module_over_400_lines():
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}

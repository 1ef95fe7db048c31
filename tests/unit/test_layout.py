"""The package's rooms import each other in one order only (docs/architecture.md).

Every import of the package is read from the source (at module level and inside functions;
`if TYPE_CHECKING:` blocks are left out, they are never run): an import from a room to one it
may not use fails here, and so does any import circle, among modules or among rooms.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "jupyter_rapids_kf"
NAME = PACKAGE.name

# Room -> the rooms it may import. Lower rooms first; programs (app.py, doctor.py, the package's
# own __init__.py) may import anything.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "models": {"errors"},
    "config": {"errors", "models"},
    "batch": {"errors", "models"},
    "web": {"errors", "models"},
    "backends": {"errors", "models", "config", "batch", "web", "backends.local", "backends.kubernetes"},
    "backends.local": {"errors", "models", "config", "batch", "web", "backends"},
    "backends.kubernetes": {"errors", "models", "config", "batch", "web", "backends"},
    "clusters": {"errors", "models", "config", "web", "backends"},
    "jobs": {"errors", "models", "config", "web", "batch", "backends", "clusters"},
    "pipelines": {"errors", "models", "config", "web", "batch", "backends", "clusters"},
    # A program of its own (the admin's controller for stopped notebooks), beside the server.
    "stopper": {"errors", "models", "backends.kubernetes"},
}
PROGRAMS = {"app", "doctor", "package", "_version"}
# A capability reaches another one, and any capability a backend, through its door only.
DOORS = {
    "clusters": {f"{NAME}.clusters.service", f"{NAME}.clusters.build"},
    "backends": {f"{NAME}.backends", f"{NAME}.backends.base"},
}
CAPABILITIES = {"clusters", "jobs", "pipelines"}
# Services and request rules are tornado-free, so the doctor and the pipeline step can use them.
NO_TORNADO = ("clusters.service", "clusters.rules", "clusters.build", "clusters.gpu_hours", "jobs.service", "pipelines.service",
              "pipelines.cluster", "pipelines.step")


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in package.rglob("*.py"):
        if "labextension" in path.parts:
            continue
        rel = path.relative_to(package.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(target + "."):
                found.add(target)
    return found


def room(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "package"
    if parts[0] == "backends" and len(parts) > 1 and parts[1] in ("local", "kubernetes"):
        return f"backends.{parts[1]}"
    return parts[0]


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    known = modules(package)
    return {m: imports(m, p, known) for m, p in known.items()}


def wrong_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in edges.items():
        here = room(module)
        if here in PROGRAMS:
            continue
        for target in targets:
            there = room(target)
            if there != here and there not in ALLOWED[here]:
                wrong.append(f"{module} imports {target} ({here} may not use {there})")
    return wrong


def room_edges(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    rooms: dict[str, set[str]] = {}
    for module, targets in edges.items():
        for target in targets:
            a, b = room(module), room(target)
            # backends/ chooses between its two backends, which both use backends/base.py
            if a != b and not a.startswith(b + ".") and not b.startswith(a + "."):
                rooms.setdefault(a, set()).add(b)
    return rooms


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_room_is_known():
    rooms = {room(m) for m in modules()}
    assert rooms - PROGRAMS - set(ALLOWED) == set(), "a new room: add it to ALLOWED and docs/architecture.md"


def test_rooms_import_only_the_rooms_below_them():
    assert wrong_imports(graph()) == []


def test_capabilities_use_each_other_and_the_backends_through_their_doors():
    wrong = []
    for module, targets in graph().items():
        here = room(module)
        if here not in CAPABILITIES:
            continue
        for target in targets:
            there = room(target)
            door = "backends" if there.startswith("backends") else there
            if there != here and door in DOORS and target not in DOORS[door]:
                wrong.append(f"{module} imports {target}: only {sorted(DOORS[door])}")
    assert wrong == []


def test_services_have_no_tornado():
    found = modules()
    wrong = []
    for name in NO_TORNADO:
        tree = ast.parse(found[f"{NAME}.{name}"].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            wrong += [f"{name} imports {n}" for n in names if n.split(".")[0] in ("tornado", "jupyter_server")]
    assert wrong == []


def test_no_import_circles_among_modules_or_rooms():
    edges = graph()
    assert circles(edges) == []
    assert circles(room_edges(edges)) == []


def test_the_checks_find_a_wrong_import_and_a_circle(tmp_path):
    """On a small package of the same name: a backend importing a capability, one capability
    importing a sibling, and the circle between them are all found."""
    package = tmp_path / NAME
    files = {
        "__init__.py": "",
        "backends/__init__.py": "",
        "backends/local/__init__.py": "",
        "backends/local/jobs.py": "def later():\n    from ...jobs.service import JobService\n",
        "jobs/__init__.py": "",
        "jobs/service.py": "from ..pipelines import export\nfrom ..backends.local import jobs\n",
        "pipelines/__init__.py": "",
        "pipelines/export.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..jobs import service\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    edges = graph(package)
    assert {line.partition(" (")[2] for line in wrong_imports(edges)} == {
        "backends.local may not use jobs)", "jobs may not use pipelines)", "jobs may not use backends.local)"}
    assert circles(edges) == [[f"{NAME}.backends.local.jobs", f"{NAME}.jobs.service"]]
    assert circles(room_edges(edges)) == [["backends.local", "jobs"]]

"""Every import among gan_study's modules runs one way: no module imports, even lazily inside a function or only
for type checking, a module that imports it back (docs/architecture.md: dependencies point one way)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("models", "study", "launch", "analysis", "conf")


def module_files() -> dict[str, Path]:
    """`gan_study.study.train.run` -> study/train/run.py, packages by their __init__.py."""
    modules = {}
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(("gan_study", *(parts[:-1] if parts[-1] == "__init__" else parts)))] = path
    return modules


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The gan_study modules `name` imports anywhere in its file: at the top, in functions, under TYPE_CHECKING.
    `from package import sub` is the submodule `sub` when it is one, else the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1], node.module or ""]
                            ).strip(".") if node.level else node.module
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
                on_stack.discard(member)
            on_stack.discard(node)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_two_module_circle_and_nothing_in_a_line():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_function_level_and_type_checking_imports():
    graph = import_graph()
    assert "gan_study.study.train.run" in graph["gan_study.study.train"]  # a package's own import of its module
    assert "gan_study.launch.registry" in graph["gan_study.launch.sweep"]  # inside run_sweep
    assert len(graph) > 100


def test_no_import_cycle_among_gan_study_modules():
    assert cycles(import_graph()) == []

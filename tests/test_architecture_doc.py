"""docs/architecture.md's module map lists exactly the modules the product folders hold, each under its folder."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("models", "study", "launch", "analysis")


def product_modules() -> set[str]:
    """Every module with code or a docstring ("study/train/run.py"), read from the tree."""
    found = set()
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text())):
                continue
            found.add(path.relative_to(ROOT).as_posix())
    return found


def mapped_modules() -> set[str]:
    """The modules the map lists: each `- \\`name.py\\`` line under its latest **`folder/`** heading."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    listed, folder = set(), None
    for line in text.split("## Module map", 1)[1].splitlines():
        if heading := re.fullmatch(r"\*\*`([\w/]+)/`\*\*", line.strip()):
            folder = heading.group(1)
        elif entry := re.match(r"- `(\w+\.py)`", line):
            listed.add(f"{folder}/{entry.group(1)}")
    return listed


def test_the_module_map_lists_every_module_and_no_other():
    modules, mapped = product_modules(), mapped_modules()
    assert len(modules) > 100
    assert sorted(modules - mapped) == [], "modules missing from docs/architecture.md's module map"
    assert sorted(mapped - modules) == [], "the module map lists modules that do not exist"

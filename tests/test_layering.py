"""What import-linter cannot see: the page scripts and app.py (not a package)
import only the UI, the workspace, the runs and the public engine; no module
imports another's ``_private`` name; modules and functions stay small.
import-linter checks the packages themselves (.importlinter, scripts/test.sh)."""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE_DIRS = [d for d in (ROOT / "pages", ROOT / "app_pages") if d.is_dir()]
SCRIPTS = [ROOT / "app.py", *(p for d in PAGE_DIRS for p in sorted(d.glob("*.py")))]
CODE = [p for d in ("tagger", "ui") for p in sorted((ROOT / d).rglob("*.py"))] + SCRIPTS
PUBLIC_API = {"load_corpus", "tokenize", "train", "evaluate", "load_model", "predict_spans",
              "Sentence", "Span", "Token", "Problem", "TaggerError"}
PAGE_MAY_IMPORT = ("ui", "tagger.workspace", "tagger.runs", "streamlit", "pandas")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 50


def _imports(path: Path):
    """(line, module, names) for every import in the file, relative ones made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = list(rel[:-1]) if rel[-1] != "__init__" else list(rel[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([mod] if mod else []))
            yield node.lineno, mod, [a.name for a in node.names]


def _allowed_in_page(module: str, names: list) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or module == "__future__":
        return True
    if any(module == m or module.startswith(m + ".") for m in PAGE_MAY_IMPORT):
        return True
    return module == "tagger" and all(n in PUBLIC_API for n in names)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_pages_import_only_the_ui_workspace_runs_and_public_api(script):
    bad = [f"{script.name}:{line}: {mod} {names or ''}" for line, mod, names in _imports(script)
           if not _allowed_in_page(mod, names)]
    assert not bad, "a page reaches past ui/workspace/runs into the engine (or computes with numpy/" \
                    "scoring): " + "; ".join(bad)


def test_the_page_rule_can_fail():
    assert not _allowed_in_page("tagger.scoring", ["score"])
    assert not _allowed_in_page("tagger", ["scoring"])
    assert not _allowed_in_page("numpy", [])
    assert _allowed_in_page("tagger.workspace.evaluation", ["evaluation"])


def _private_imports(path: Path) -> list:
    out = []
    for line, mod, names in _imports(path):
        out += [f"{path.relative_to(ROOT)}:{line}: from {mod} import {n}" for n in names
                if n.startswith("_") and not n.startswith("__")]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = ("tagger", "ui")
    modules = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
               if a.name.split(".")[0] in ours}
    modules |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                and (n.module or "").split(".")[0] in ours for a in n.names}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    return out


def test_no_private_name_is_imported_from_another_module():
    bad = [b for p in CODE for b in _private_imports(p)]
    assert not bad, "; ".join(bad)


def test_the_private_rule_can_fail(tmp_path, monkeypatch):
    fake = ROOT / "tagger" / "_layering_probe.py"
    src = "from tagger.models import saving\nfrom tagger.core.units import _x\nsaving._atomic(1)\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: src)
    assert len(_private_imports(fake)) == 2


def _sizes(path: Path):
    src = path.read_text(encoding="utf-8")
    yield f"{path.relative_to(ROOT)}", len(src.splitlines()), MAX_MODULE_LINES
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield (f"{path.relative_to(ROOT)}:{node.lineno} {node.name}()",
                   node.end_lineno - node.lineno + 1, MAX_FUNCTION_LINES)


def test_modules_and_functions_stay_small():
    over = [f"{what}: {n} lines (limit {limit})" for p in CODE for what, n, limit in _sizes(p) if n > limit]
    assert not over, "split before you grow: " + "; ".join(over)

"""Layering: the estimation package computes estimates; tables and figures belong to the report."""

from __future__ import annotations

import ast
from pathlib import Path

import citydip

ESTIMATION = Path(citydip.__file__).parent / "estimation"
PACKAGE = "citydip.estimation"



def report_imports(path: Path) -> list[str]:
    """``line: module`` for every import statement in ``path`` that imports ``citydip.report``
    or anything in it (relative imports resolved; ``from citydip import report`` counts)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = PACKAGE.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        hits = [n for n in names if n == "citydip.report" or n.startswith("citydip.report.")]
        if hits:
            found.append(f"{node.lineno}: {hits[0]}")
    return found


def test_estimation_imports_nothing_from_report():
    files = sorted(ESTIMATION.glob("*.py"))
    assert len(files) > 5, ESTIMATION
    offending = [f"{p.name}:{hit}" for p in files for hit in report_imports(p)]
    assert not offending, "citydip.estimation must not import citydip.report:\n" + "\n".join(offending)


def test_the_check_sees_every_import_form(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import citydip.report.tables\nfrom citydip import report\nfrom ..report import figures\n"
                      "from . import outputs\nimport citydip.reporting\n"
                      "def f():\n    from citydip.report.outputs import main_table\n")
    assert [hit.split(":")[0] for hit in report_imports(sample)] == ["1", "2", "3", "7"]

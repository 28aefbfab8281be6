"""Code lines of the report notebooks: lines of code cells that are neither blank nor comments
(markdown cells do not count). Usage: python benchmarks/notebook_lines.py"""

from __future__ import annotations

from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def code_lines(path: Path) -> int:
    markdown, count = False, 0
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
            continue
        text = line.strip()
        if not markdown and text and not text.startswith("#"):
            count += 1
    return count


if __name__ == "__main__":
    total = 0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        n = code_lines(path)
        total += n
        print(f"{path.name:32s} {n:5d}")
    print(f"{'total':32s} {total:5d}")

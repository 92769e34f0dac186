"""One-off migration (December 2026): the VAE schedule chapters' numbers name their code version.

The schedule chapters (``vae-*``) now run every schedule under each code version of the original
they list (book/methods/generative.md, vae-versions), and each number carries its version in its
``setting`` (``{"code_version":"2024","cycles":10,...}``). Every committed number of theirs was
computed before that with the 2024 code, the only version the chapters then ran; this script adds
``"code_version":"2024"`` to the setting of each such row of the committed record, trial and
reference files. Only those setting cells change: every other line, and every other cell of a
changed line, keeps its text byte for byte, so no number can move. A row that already names a
version is left as it is, so running the script twice changes nothing.

    python migrations/2026_12_vae_versions.py     # rewrites results/paper and results/reference
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

from sleeputils.results.setting import decode, encode

ROOT = Path(__file__).resolve().parents[1]
#: The chapters whose committed numbers were all computed with the 2024 code.
CHAPTERS = re.compile(r"vae-[a-z]+")
VERSION = {"code_version": "2024"}


def migrate_text(text: str) -> str:
    """The text of one record, trial or reference CSV with every ``vae-*`` row's setting naming
    the 2024 code version (a setting that names a version is kept)."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    header = next(csv.reader([lines[0]]))
    if "setting" not in header or "chapter_id" not in header:
        return text
    chapter, where = header.index("chapter_id"), header.index("setting")
    out = [lines[0]]
    for line in lines[1:]:
        (row,) = list(csv.reader([line]))  # one record per line: no cell holds a line break
        if len(row) != len(header):
            raise ValueError(f"a row of {len(row)} cells under a header of {len(header)}: {line!r}")
        if not CHAPTERS.fullmatch(row[chapter]) or "code_version" in decode(row[where]):
            out.append(line)
            continue
        row[where] = encode({**decode(row[where]), **VERSION})
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=line[len(line.rstrip("\r\n")):] or "\n").writerow(row)
        out.append(buffer.getvalue())
    return "".join(out)


def migrate_file(path: Path) -> bool:
    """Rewrite one CSV in place; whether it changed."""
    text = path.read_text(encoding="utf-8")
    new = migrate_text(text)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def files(root: Path = ROOT) -> list[Path]:
    """The committed files holding numbers of the schedule chapters."""
    paper = root / "results" / "paper"
    return [*sorted(paper.glob("vae-*.csv")), *sorted((paper / "trials").glob("vae-*.csv")),
            *sorted((root / "results" / "reference").glob("*.csv"))]


def main() -> int:
    for path in files():
        if migrate_file(path):
            print(f"migrated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

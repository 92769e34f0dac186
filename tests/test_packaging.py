"""environment.yml lists exactly the dependencies of pyproject.toml (runtime + dev)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {p for p in pip if not p.startswith("-e")}
    assert listed == wanted
    assert "python=3.11" in env["dependencies"]


def test_nothing_cites_files_outside_the_repository() -> None:
    """Readers cannot follow developer-only notes: code, notebooks and pages cite the book."""
    root = Path(__file__).resolve().parents[1]
    banned = ("§", "specs/", "src.md", "paper-results.md", "wscl.md", "vae-sleep-scheduler.md",
              "the spec", "spec says", "see spec")
    files = [p for folder in ("sleeputils", "notebooks", "book") for p in (root / folder).rglob("*")
             if p.suffix in (".py", ".md", ".yaml", ".csv", ".yml")]
    def text(p: Path) -> str:  # the book's own pages (book/methods/wscl.md) may be cited
        return re.sub(r"book/methods/[\w-]+\.md", "", p.read_text(encoding="utf-8"))

    offenders = [f"{p.relative_to(root)}: {b}" for p in files for b in banned if b in text(p)]
    assert files and not offenders, offenders

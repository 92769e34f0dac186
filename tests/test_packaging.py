"""The environment is locked: requirements.lock pins every package at one version with its
hashes, and pyproject.toml, environment.yml and the Makefile agree with it."""

import hashlib
import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sleeputils.results.provenance import lock_state

ROOT = Path(__file__).resolve().parents[1]
#: Installed by `make setup` before the lock, from the CPU wheel pip finds; not in the lock.
FIRST = "torch"


def _pyproject() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in
            project["dependencies"] + project["optional-dependencies"]["dev"]]


def _lock() -> dict[str, tuple[str, int]]:
    """``{name: (version, number of hashes)}`` of requirements.lock."""
    pins: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text()):
        pin = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if pin:
            pins[canonicalize_name(pin[1])] = (pin[2], block.count("--hash=sha256:"))
    return pins


def test_lock_pins_every_dependency_within_pyproject_with_hashes():
    lock = _lock()
    assert len(lock) > 100 and all(hashes for _, hashes in lock.values())
    assert FIRST not in lock
    for req in _pyproject():
        if req.name == FIRST:
            continue
        version, _ = lock[canonicalize_name(req.name)]
        assert req.specifier.contains(version, prereleases=True), (str(req), version)
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for req in map(Requirement, build):  # `make setup` builds the package without isolation
        assert req.specifier.contains(lock[canonicalize_name(req.name)][0]), str(req)


def test_environment_pins_pyproject_at_the_lock_versions():
    lock = _lock()
    wanted = {str(r) if r.name == FIRST else f"{r.name}=={lock[canonicalize_name(r.name)][0]}"
              for r in _pyproject()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {p for p in pip if not p.startswith("-e")}
    assert listed == wanted
    assert "python=3.11" in env["dependencies"]


def test_make_setup_installs_the_pinned_torch_then_the_lock():
    torch = next(str(r) for r in _pyproject() if r.name == FIRST)
    assert re.fullmatch(r"torch==[\d.]+", torch)  # one exact version
    recipe = (ROOT / "Makefile").read_text()
    first, lock = recipe.find(f"install --quiet {torch}\n"), recipe.find("-r requirements.lock")
    assert 0 < first < lock and "--require-hashes -r requirements.lock" in recipe


def test_machine_signature_names_the_lock_only_when_it_is_installed(tmp_path):
    numpy, pandas = metadata.version("numpy"), metadata.version("pandas")
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"numpy=={numpy} \\\n    --hash=sha256:00\npandas=={pandas}\n")
    assert lock_state(lock) == f"lock {hashlib.sha256(lock.read_bytes()).hexdigest()[:12]}"
    lock.write_text(f"numpy=={numpy}\npandas=={pandas}.post7\n")
    assert lock_state(lock) == "unlocked (1 of 2 requirements.lock pins differ)"
    assert lock_state(tmp_path / "none.lock") == "unlocked (no requirements.lock)"


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

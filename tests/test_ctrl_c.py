"""Ctrl-C on a real smoke run: one line saying how many units are stored, exit code 130, no
traceback from the kernel or the workers; the same command then resumes and says how many
units it reused."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sleeputils.cli import main

ROOT = Path(__file__).resolve().parents[1]
#: A smoke chapter of 5 units on 2 worker processes (the terminal's Ctrl-C reaches them too).
COMMAND = ["run", "patches", "--profile", "smoke", "-p", "overlaps", "1..5", "--workers", "2",
           "--no-progress"]
UNITS = 5
LINE = re.compile(r"interrupted: (\d+) of 5 units stored; run the same command to resume")
#: A tqdm progress bar ("patches:  40%|####      | 2/5 [00:03<00:04, 1.5s/it]").
BAR = re.compile(r"^[\w ,.()-]+: +\d+%\|.*\| \d+/\d+ ")


def _sleepbook(project: Path) -> subprocess.Popen:
    """The command in a session of its own, as a terminal would run it in the foreground."""
    env = {**os.environ, "SLEEPBOOK_RESULTS": str(project / "store"),
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "sleeputils.cli", "--root", str(project),
                             *COMMAND], cwd=project, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _units(project: Path) -> list[Path]:
    return sorted((project / "store" / "units").glob("*/*.jsonl"))


def test_ctrl_c_says_how_many_units_are_stored_and_a_rerun_resumes(tmp_path: Path, capfd,
                                                                    monkeypatch) -> None:
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    first = _sleepbook(tmp_path)
    deadline = time.monotonic() + 300
    while len(_units(tmp_path)) < 1 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.poll() is None, "the run ended before it could be interrupted"
    os.killpg(first.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert out == ""
    (line,) = err.splitlines()  # one line: no traceback from the kernel or the workers
    said, stored = int(LINE.fullmatch(line)[1]), len(_units(tmp_path))
    assert 1 <= said <= stored < UNITS  # (a kernel stopped between storing a unit and noting)
    assert stored - said <= 1
    # the same command again, in this process (it has imported everything already)
    monkeypatch.setenv("SLEEPBOOK_RESULTS", str(tmp_path / "store"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports the code under test
    # with its progress bars this time: they are all a normal run writes to stderr
    assert main(["--root", str(tmp_path), *COMMAND[:-1]]) == 0
    out, err = capfd.readouterr()  # the kernel's and the workers' output too
    assert f"reused {stored} of {UNITS} units stored earlier; computed {UNITS - stored}" in out
    said = [line for line in err.replace("\r", "\n").splitlines()
            if line.strip() and not BAR.match(line) and not line.startswith("executing ")]
    assert said == []  # no warning, no traceback: progress bars and what runs, nothing else
    assert len(_units(tmp_path)) == UNITS

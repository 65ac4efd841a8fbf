"""``nbr`` as a person uses it: a real process, real kernels, output they can read."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_report

NBR = str(Path(sys.executable).with_name("nbr"))


def nbr(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NBREPORTS_HOME": str(home), "NBREPORTS_NOTEBOOKS_DIR": str(cwd / "notebooks")}
    return subprocess.run([NBR, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603 - argv fixed by the test, no untrusted input


@pytest.fixture
def workspace(tmp_path):
    make_report(
        tmp_path / "notebooks",
        "hello",
        "name: str = 'world'  # who to greet\ntimes: int = 1",
        "import scrapbook as sb\nprint('hello', name)\nsb.glue('greeting', f'hello {name}' * times)",
    )
    make_report(tmp_path / "notebooks", "failing", None, "1/0")
    return tmp_path


def test_run_prints_where_output_and_html_went_and_history_lists_it(workspace):
    home = workspace / "home"
    done = nbr("run", "notebooks/hello", "-p", "name", "Ada Lovelace", "-p", "times", "2", cwd=workspace, home=home)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines())
    output, html = lines["output"].strip(), lines["html"].strip()
    assert output.startswith("file://")
    assert output.endswith("/output.ipynb")
    assert Path(html.removeprefix("file://")).read_text().count("Ada Lovelace") >= 1
    assert "hello Ada Lovelace" in done.stderr  # cell output streamed as it happens

    history = nbr("history", "hello", cwd=workspace, home=home)
    assert "success" in history.stdout
    assert '"name": "Ada Lovelace"' in history.stdout
    assert "html:" in history.stdout
    runs = json.loads(nbr("history", "hello", "--json", cwd=workspace, home=home).stdout)
    assert runs[0]["parameters"] == {"name": "Ada Lovelace", "times": 2}


def test_reports_lists_names_for_scripts(workspace):
    done = nbr("reports", "--names", cwd=workspace, home=workspace / "home")
    assert done.stdout.split() == ["failing", "hello"]
    table = nbr("reports", cwd=workspace, home=workspace / "home").stdout
    assert "hello" in table
    assert "name, times" in table


def test_bad_parameter_and_failing_report_exit_non_zero_with_a_clear_message(workspace):
    home = workspace / "home"
    bad = nbr("run", "hello", "-p", "times", "lots", cwd=workspace, home=home)
    assert bad.returncode == 2
    assert "parameter 'times': got 'lots', expected integer" in bad.stderr
    unknown = nbr("run", "hello", "-p", "colour", "red", cwd=workspace, home=home)
    assert unknown.returncode == 2
    assert "unknown parameter 'colour' (known: name, times)" in unknown.stderr
    failing = nbr("run", "failing", "-q", cwd=workspace, home=home)
    assert failing.returncode == 1
    assert "ZeroDivisionError" in failing.stderr
    assert "output notebook: file://" in failing.stderr
    missing = nbr("run", "nothere", cwd=workspace, home=home)
    assert missing.returncode == 2
    assert "no report 'nothere'" in missing.stderr

"""Imports without the optional extras nbreports never uses (``nbreports.lean_imports``)."""

import subprocess
import sys

import pytest

from nbreports.lean_imports import optional_imports_skipped


def test_skipped_modules_fail_to_import_inside_and_import_again_after():
    name = "nbr_surely_absent_module_for_test"
    with optional_imports_skipped((name, "json")):
        with pytest.raises(ImportError):
            __import__(name)
        import json  # already imported modules are left alone

        assert json.dumps([1]) == "[1]"
    assert name not in sys.modules


def test_papermill_imported_lean_still_runs_local_paths_and_reimports_cloud_sdks_after():
    code = (
        "import sys\n"
        "from nbreports.lean_imports import optional_imports_skipped\n"
        "with optional_imports_skipped():\n"
        "    import papermill.iorw as io\n"
        "assert 'gcsfs' not in sys.modules and 'rfc3987_syntax' not in sys.modules\n"
        "assert type(io.papermill_io.get_handler('/tmp/x.ipynb')).__name__ == 'LocalHandler'\n"
        "import gcsfs, boto3\n"  # the marks are gone: other code can still import them
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)  # noqa: S603 - argv fixed by the test, no untrusted input
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

"""The package rules, as import-linter contracts (pyproject.toml): the core (status, postmortems)
imports no face, the faces do not import each other, and no package imports another in a cycle. A deliberately wrong import proves that the contracts do fail."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)


def test_the_code_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_a_core_that_imports_a_face_breaks_the_contracts(tmp_path):
    shutil.copytree(ROOT / "signalpost", tmp_path / "signalpost",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    derive = tmp_path / "signalpost" / "status" / "derive.py"
    derive.write_text(derive.read_text() + "\n\ndef _wrong():\n    from signalpost.public import pages  # noqa\n")

    result = lint(tmp_path)

    assert result.returncode == 1
    assert "Faces sit on the core; the core knows no face BROKEN" in result.stdout
    assert "signalpost.status is not allowed to import signalpost.public" in result.stdout
    assert "No import cycles between the packages BROKEN" in result.stdout  # public imports status

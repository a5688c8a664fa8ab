"""What a user sees of the project besides the code: files the documentation names exist."""

import pathlib
import re

import skgancluster

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "doc").glob("*.md"))]
# a path in backticks: has a slash or a known file suffix, no spaces or wildcards
WRITTEN_BY_COMMANDS = {"speed.md", "scale.md"}  # make bench
PATH = re.compile(r"`([\w./-]+\.(?:py|md|jsonl|cff|toml|png)|[\w-]+/[\w./-]*)`")


def test_documentation_names_only_files_in_the_repository():
    missing = []
    for doc in DOCS:
        for name in PATH.findall(doc.read_text()):
            if name.startswith("demo_output/") or name in WRITTEN_BY_COMMANDS:
                continue  # written by a command, not shipped
            candidates = [ROOT / name, *(ROOT / folder / name for folder in ("skgancluster", "benchmarks",
                                                                            "benchmarks/results", "tests"))]
            if not any(c.exists() for c in candidates):
                missing.append(f"{doc.name}: {name}")
    assert not missing, missing


def test_license_citation_and_one_version():
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "BSD-3-Clause"' in pyproject and 'dynamic = ["version"]' in pyproject
    assert re.search(r'^version = "', pyproject, re.M) is None, "the version lives in skgancluster/__init__.py"
    citation = (ROOT / "CITATION.cff").read_text()
    assert f"version: {skgancluster.__version__}" in citation
    for name, _ in skgancluster.all_estimators():  # every estimator's paper is cited
        assert name in citation, name

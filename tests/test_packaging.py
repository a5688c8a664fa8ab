"""What a user sees of the project besides the code: files the documentation names exist, and each
estimator's docstring gives the defaults of its signature."""

import ast
import inspect
import pathlib
import re

import pytest

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


# "name : type, default=value" in a Parameters section; two names may share a line and a pair of values.
DOCUMENTED_DEFAULT = re.compile(r"^    (\w+(?:, \w+)*) : .*?default=(.+)$", re.MULTILINE)


def _documented_value(text):
    if re.fullmatch(r"\d+/\d+", text):  # a fraction, e.g. 1/30
        numerator, denominator = text.split("/")
        return int(numerator) / int(denominator)
    return ast.literal_eval(text)


@pytest.mark.parametrize("cls", [cls for _, cls in skgancluster.all_estimators()],
                         ids=[name for name, _ in skgancluster.all_estimators()])
def test_docstring_defaults_are_the_signature_defaults(cls):
    signature = inspect.signature(cls.__init__).parameters
    documented = {}
    for match in DOCUMENTED_DEFAULT.finditer(cls.__doc__.split("Attributes\n")[0]):
        names, value = match.group(1).split(", "), _documented_value(match.group(2).strip())
        paired = isinstance(value, tuple) and len(value) == len(names) > 1  # "a, b : float, default=0.5, 0.1"
        documented.update(zip(names, value if paired else [value] * len(names)))
    assert set(documented) == set(signature) - {"self"}
    for param, value in documented.items():
        default = signature[param].default
        assert value == (list(default) if isinstance(default, tuple) and isinstance(value, list) else default), param

"""The docs speak of this repository only, and what they point at exists.

README.md and docs/*.md: relative links resolve to files here; every repository path they
cite in backticks (a script, a test, a raw result under docs/results/) exists, unless it is
an output the build writes (ignored by git); no issue numbers or files from outside the
repository; counts the README states match the code.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "tests" / "controlplane" / "README.md"]
TOP_DIRS = ("docs/", "benchmarks/", "tests/", "examples/", "jupyter_rapids_kf/", "src/", "manifests/",
            "ui-tests/", "style/", ".ci/")
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")


def ignored_by_git(path: str) -> bool:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", path], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def cited_paths(text: str) -> list[str]:
    paths = []
    for token in CODE.findall(text):
        if token.startswith(TOP_DIRS) and not re.search(r"[<>*{}$]", token):
            paths.append(token.split("::")[0].rstrip(",.:;"))
    return paths


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_cited_files_exist(doc):
    text = doc.read_text()
    broken = []
    for target in LINK.findall(text):
        path = target.split("#")[0]
        if path and not re.match(r"[a-z]+:", path) and not (doc.parent / path).exists():
            broken.append(f"link {target}")
    for path in cited_paths(text):
        if not (ROOT / path).exists() and not ignored_by_git(path):
            broken.append(f"path {path}")
    for path, name in re.findall(r"`([\w/.-]+\.py)::(test_\w+)`", text):  # a named test exists
        if (ROOT / path).is_file() and not re.search(rf"def {name}\b", (ROOT / path).read_text()):
            broken.append(f"test {path}::{name}")
    assert broken == [], f"{doc.relative_to(ROOT)} points at what is not in the repository"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_cite_nothing_outside_the_repository(doc):
    text = doc.read_text()
    outside = re.findall(r"\b[Ii]ssues? #?\d+\b|\bfacts\.md\b|/work/|\bshared/(?:notes|design)\b", text)
    assert outside == [], f"{doc.relative_to(ROOT)} cites what a reader of the repository cannot open"


def test_every_raw_result_named_in_the_docs_exists():
    """The rule for numbers: every figure names its raw file under docs/results/."""
    named = {p for doc in DOCS for p in cited_paths(doc.read_text()) if p.startswith("docs/results/") and not p.endswith("/")}
    assert named, "the docs name no raw result at all"
    assert sorted(p for p in named if not (ROOT / p).is_file()) == []


def test_the_readme_states_the_fuzz_test_request_count_of_the_code():
    fuzz = (ROOT / "tests" / "api" / "test_fuzz.py").read_text()
    per_pass = int(re.search(r'RAPIDS_KF_FUZZ_EXAMPLES", "(\d+)"', fuzz).group(1))
    passes = int(re.search(r"per pass \((\w+) passes\)", fuzz).group(1).replace("three", "3"))
    assert f"sends {per_pass * passes:,} requests" in " ".join((ROOT / "README.md").read_text().split())

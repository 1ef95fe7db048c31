"""The docs speak of this repository only, and what they point at exists.

README.md and docs/*.md: relative links resolve to files here; every repository path they
cite in backticks (a script, a test, a raw result under docs/results/) exists, unless it is
an output the build writes (ignored by git); no issue numbers or files from outside the
repository; the fuzz count the README states is the one its cited run printed; and every
figure quoted beside a cited raw result is in that result (the convention is below).
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


def test_the_readme_states_the_fuzz_test_request_count_of_its_last_recorded_run():
    """The README quotes the count that a kept run printed, not what the code is meant to send."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    quoted = re.search(r"its last recorded run sent (\d+) requests in (\d+) s \(`(docs/results/fuzz_[\w.-]+\.txt)`\)",
                       readme)
    assert quoted, "the README does not quote the fuzz test's last recorded run"
    count, seconds, path = quoted.groups()
    kept = (ROOT / path).read_text()
    assert f"fuzz: {count} requests in {seconds} s" in kept and "1 passed" in kept
    fuzz = (ROOT / "tests" / "api" / "test_fuzz.py").read_text()
    per_pass = int(re.search(r'RAPIDS_KF_FUZZ_EXAMPLES", "(\d+)"', fuzz).group(1))
    assert f"{per_pass:,} examples per pass" in readme
    assert f"fails below {per_pass:,} requests" in readme and "assert total >= EXAMPLES" in fuzz


# --- Quoted figures are in the result files they cite --------------------------------------
#
# The convention, checkable: a figure (a number with a unit: 3.0x, 0.53 s, 4.4 ms, 28 min,
# 17.3 MiB, 3.6 GB, or a range such as 0.47-1.28 s) that stands in the same table row, or the
# same sentence, as one or more cited raw files (`docs/results/NAME`, or a bare `NAME.json` /
# `NAME.txt` of that folder) must be found in one of those files. A time or size is found when
# a number of the file, read in its own unit (seconds or milliseconds; seconds for minutes;
# bytes, MiB or GB), rounds to the quoted figure at the quoted decimals. A ratio is found only
# where the file prints it as a ratio (`3.00x`, `"ratio": 2.99`): the benchmarks print every ratio
# through spread.py, so what the docs quote is what the rule let through. A figure that is not
# a measurement (a setting, a bound) but sits next to a citation goes in ALLOWED with its reason.

RESULTS = ROOT / "docs" / "results"
NUMBER = r"\d+(?:\.\d+)?"
RATIO = re.compile(rf"(?<![\w.,/-])({NUMBER})(?:-({NUMBER}))?x(?![\w-])")
MEASURE = re.compile(rf"(?<![\w.,/-])({NUMBER})(?:\s?[-–]\s?({NUMBER}))?\s?(ms|s|min|minutes|MiB|GiB|KiB|MB|GB)(?![\w])")
# how a number in the file may be written for each quoted unit: file value * factor = quoted
FACTORS = {"s": (1, 1e-3), "ms": (1, 1e3), "min": (1, 1 / 60), "minutes": (1, 1 / 60), "MiB": (1, 2**-20),
           "GiB": (1, 2**-30), "KiB": (1, 2**-10), "MB": (1, 1e-6, 2**-20), "GB": (1, 1e-9, 2**-30)}
FILE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
FILE_RATIO = re.compile(r"(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?x\b|\"(?:ratio|low|high)\w*\": (-?\d+(?:\.\d+)?)")
CITED = re.compile(r"`(?:docs/results/)?([\w.-]+\.(?:json|txt))`")
# (doc, figure) -> why it is not read from the cited file
ALLOWED: dict[tuple[str, str], str] = {
    ("docs/benchmarks.md", "120x"): "a test's time bound (60 s) over the time seen (0.5 s), not a benchmark's ratio",
}


def text_units(text: str) -> list[str]:
    """Table rows, and the sentences of every paragraph or list item (lines joined)."""
    units, block = [], []
    for line in text.splitlines() + [""]:
        stripped = line.strip()
        if stripped.startswith("|") or not stripped or stripped.startswith(("#", "```", "- ", "* ")) \
                or re.match(r"\d+\. ", stripped):
            if block:
                units += re.split(r"(?<=[.!?])\s+(?=[A-Z*`(\[])|(?<=;)\s+(?=[A-Z*(\[])", " ".join(block))
                block = []
            if stripped.startswith("|"):
                units.append(stripped)
                continue
            if stripped.startswith(("- ", "* ")) or re.match(r"\d+\. ", stripped):
                block = [stripped]
            continue
        block.append(stripped)
    return units


def quoted_figures(unit: str) -> list[tuple[str, str, str]]:
    """(as written, number, unit) of every figure; a range gives both ends."""
    unit = re.sub(r"`[^`]*`", " ", unit)  # paths and code are not figures
    found = []
    for match in RATIO.finditer(unit):
        found += [(match.group(0), n, "x") for n in match.groups() if n]
    for match in MEASURE.finditer(unit):
        found += [(match.group(0), n, match.group(3)) for n in match.groups()[:2] if n]
    return found


def rounds_to(value: float, quoted: str) -> bool:
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return abs(value - float(quoted)) <= 0.5 * 10**-decimals + 1e-9


def in_file(number: str, unit: str, text: str) -> bool:
    if unit == "x":
        values = [float(v) for found in FILE_RATIO.findall(text) for v in found if v]
        return any(rounds_to(v, number) for v in values)
    values = [float(v) for v in FILE_NUMBER.findall(text)]
    return any(rounds_to(v * factor, number) for v in values for factor in FACTORS[unit])


def unbacked_figures(doc_name: str, text: str, results: Path = RESULTS) -> list[str]:
    """Every quoted figure not found in the raw file(s) cited beside it."""
    missing = []
    for unit in text_units(text):
        cited = [results / name for name in CITED.findall(unit) if (results / name).is_file()]
        if not cited:
            continue
        contents = [path.read_text(errors="replace") for path in cited]
        for written, number, kind in quoted_figures(unit):
            if (doc_name, written) in ALLOWED:
                continue
            if not any(in_file(number, kind, content) for content in contents):
                missing.append(f"{written!r} not in {', '.join(p.name for p in cited)}: {unit[:160]}")
    return missing


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_quoted_figure_is_in_the_result_file_it_cites(doc):
    missing = unbacked_figures(str(doc.relative_to(ROOT)), doc.read_text())
    assert missing == [], "\n".join(missing)


def test_every_allowed_figure_is_still_quoted_where_it_is_allowed():
    for doc, written in ALLOWED:
        assert written in (ROOT / doc).read_text(), f"ALLOWED has {written!r} for {doc}, which no longer quotes it"


def test_the_figure_check_fails_on_a_figure_its_file_does_not_hold(tmp_path):
    (tmp_path / "run.json").write_text('{"usable_s": 0.5255, "reads": "3.00x (95% interval 1.95-4.40x)"}')
    good = "Usable in 0.53 s, **3.0x** sooner (`docs/results/run.json`; interval 1.95-4.40x)."
    assert unbacked_figures("doc.md", good, tmp_path) == []
    # The best run's figure instead of the file's; a ratio worked out by hand; a unit's scale.
    assert len(unbacked_figures("doc.md", "Usable in 0.47 s (`docs/results/run.json`).", tmp_path)) == 1
    assert len(unbacked_figures("doc.md", "It is 2.9x sooner (`run.json`).", tmp_path)) == 1
    assert unbacked_figures("doc.md", "Usable in 525.5 ms (`run.json`).", tmp_path) == []
    # A table row is one unit; a figure in another sentence than the citation is not checked.
    assert len(unbacked_figures("doc.md", "| usable | 0.61 s | `run.json` |", tmp_path)) == 1
    assert unbacked_figures("doc.md", "Polls every 5 s. Usable in 0.53 s (`run.json`).", tmp_path) == []

"""The notebook image users are told to build and the tier's notebook image come from the same
steps: docs/notebook-image/Dockerfile RUNs install.sh, and build_notebook_image.sh runs that very
file in its image. The documented base is RAPIDS' notebooks image at the RAPIDS release and
CUDA/Python of our default cluster image."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from jupyter_rapids_kf.config import RapidsKF

ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIR = ROOT / "docs" / "notebook-image"
DOCKERFILE = IMAGE_DIR / "Dockerfile"
BUILD = ROOT / "tests" / "controlplane" / "build_notebook_image.sh"


def instructions() -> list[tuple[str, str]]:
    lines = [l for l in DOCKERFILE.read_text().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    return [(l.split(None, 1)[0].upper(), l.split(None, 1)[1]) for l in lines]


def test_the_dockerfile_starts_from_the_rapids_notebooks_image_of_our_default_release():
    froms = [arg for op, arg in instructions() if op == "FROM"]
    assert len(froms) == 1
    name, tag = froms[0].split(":")
    assert name == "rapidsai/notebooks" and re.fullmatch(r"\d\d\.\d\d-cuda\d+-py3\.\d+", tag), froms
    assert RapidsKF().default_image.split(":")[1] == tag  # rapidsai/base of the same release


def test_the_dockerfile_and_the_tiers_image_run_the_same_install_script():
    steps = instructions()
    assert ("COPY", "install.sh /tmp/rapids-kf/install.sh") in steps
    runs = [arg for op, arg in steps if op == "RUN"]
    assert runs == ["sh /tmp/rapids-kf/install.sh && rm -rf /tmp/rapids-kf"]  # no other install step
    build = BUILD.read_text()
    assert 'INSTALL="$CHECKOUT/docs/notebook-image/install.sh"' in build
    assert 'cp "$INSTALL" "$ROOT/tmp/rapids-kf/install.sh"' in build
    assert re.search(r"\bsh /tmp/rapids-kf/install\.sh\b", build)
    assert "pip install" not in build  # everything the image gets, it gets from install.sh


def test_the_install_script_names_the_extension_and_what_jobs_need():
    out = subprocess.run(["sh", str(IMAGE_DIR / "install.sh"), "--packages"], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["jupyter-rapids-kf", "ipykernel", "nbclient", "nbformat"]


def test_the_admin_guide_quotes_the_dockerfile_as_it_is():
    text = (ROOT / "docs" / "admin.md").read_text()
    section = text[text.index("## 3. Put the extension"):text.index("## 4.")]
    quoted = re.search(r"```dockerfile\n(.*?)```", section, re.S).group(1).splitlines()
    lines = DOCKERFILE.read_text().splitlines()
    assert quoted and [q for q in quoted if q not in lines] == []

"""The built extension asks JupyterLab for shared packages in versions JupyterLab provides.

Otherwise JupyterLab warns "Unsatisfied version" on every page load (and may load a second
copy). Reads the built bundle (`make setup` builds it) and the installed JupyterLab's own
package metadata.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jupyter_builder.jupyterlab_semver import satisfies
from jupyter_core.paths import jupyter_path

STATIC = Path(__file__).resolve().parents[2] / "jupyter_rapids_kf" / "labextension" / "static"
CONSUMED = re.compile(r'shareKey: "(?P<package>[^"]+)", import: null, requiredVersion: "(?P<wanted>[^"]+)"')


def provided() -> dict[str, str]:
    """What the installed JupyterLab shares: its resolutions (one version of each package)."""
    for root in jupyter_path("lab", "static"):
        meta = Path(root) / "package.json"
        if meta.exists():
            return json.loads(meta.read_text())["resolutions"]
    raise AssertionError("the installed JupyterLab's static/package.json was not found")


def test_every_shared_package_we_consume_is_satisfied_by_jupyterlab():
    entries = sorted(STATIC.glob("remoteEntry.*.js"), key=lambda p: p.stat().st_mtime, reverse=True)
    assert entries, f"no built extension in {STATIC}: run make setup (or jlpm build)"
    consumed = {m["package"]: m["wanted"] for m in CONSUMED.finditer(entries[0].read_text())}
    assert "@jupyter/react-components" in consumed
    shared = provided()
    unsatisfied = {
        package: (wanted, shared[package])
        for package, wanted in consumed.items()
        if package in shared and not satisfies(shared[package].lstrip("^~"), wanted)
    }
    assert unsatisfied == {}, "JupyterLab would warn 'Unsatisfied version' for these"

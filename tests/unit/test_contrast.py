"""The phase badges are readable in JupyterLab's light and dark themes (WCAG AA, 4.5:1).

Reads our stylesheet and the installed JupyterLab's own theme stylesheets, resolves the theme
variables each badge uses for its text and background, and computes the contrast ratio.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jupyter_core.paths import jupyter_path

STYLE = Path(__file__).resolve().parents[2] / "style" / "base.css"
PHASES = ["running", "scaling", "pending", "creating", "failed", "deleting", "unknown"]
THEMES = ["theme-light-extension", "theme-dark-extension"]


def theme_variables(theme: str) -> dict[str, str]:
    for root in jupyter_path("lab", "themes"):
        css = Path(root) / "@jupyterlab" / theme / "index.css"
        if css.exists():
            return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;}]+)", css.read_text()))
    raise AssertionError(f"JupyterLab's {theme} stylesheet is not installed")


def rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip()) for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)
        )
        found.append(([s.strip() for s in selectors.split(",")], declarations))
    return found


def badge_declarations(phase: str) -> dict[str, str]:
    """What applies to `.jp-RapidsKF-phase.jp-mod-<phase>`: the base rule, then the phase's."""
    merged: dict[str, str] = {}
    for selector in (".jp-RapidsKF-phase", f".jp-RapidsKF-phase.jp-mod-{phase}"):
        for selectors, declarations in rules(STYLE.read_text()):
            if selector in selectors:
                merged.update(declarations)
    return merged


def resolve(value: str, variables: dict[str, str], depth: int = 0) -> str:
    assert depth < 20, f"variables loop in {value}"
    match = re.search(r"var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*))?\)", value)
    if not match:
        return value.strip()
    name, fallback = match.groups()
    inner = variables.get(name, fallback)
    assert inner is not None, f"{name} is not defined by the theme"
    return resolve(value[: match.start()] + inner + value[match.end() :], variables, depth + 1)


def rgba(color: str) -> tuple[float, float, float, float]:
    color = color.strip().lower()
    named = {"white": "#ffffff", "black": "#000000"}
    color = named.get(color, color)
    if color.startswith("#"):
        hexes = color[1:]
        if len(hexes) == 3:
            hexes = "".join(c * 2 for c in hexes)
        return tuple(int(hexes[i : i + 2], 16) / 255 for i in (0, 2, 4)) + (1.0,)  # type: ignore[return-value]
    parts = [float(p) for p in re.findall(r"[\d.]+", color)]
    assert color.startswith("rgb") and len(parts) in (3, 4), f"not a colour: {color}"
    return (parts[0] / 255, parts[1] / 255, parts[2] / 255, parts[3] if len(parts) == 4 else 1.0)


def over(top, bottom):
    alpha = top[3]
    return tuple(top[i] * alpha + bottom[i] * (1 - alpha) for i in range(3)) + (1.0,)


def luminance(rgb) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("phase", PHASES)
def test_phase_badge_text_meets_wcag_aa(theme, phase):
    declarations = badge_declarations(phase)
    variables = {**theme_variables(theme), **{k: v for k, v in declarations.items() if k.startswith("--")}}
    page = rgba(resolve("var(--jp-layout-color1)", variables))
    background = over(rgba(resolve(declarations["background"], variables)), page)
    text = over(rgba(resolve(declarations["color"], variables)), background)
    ratio = contrast(text, background)
    assert ratio >= 4.5, f"{phase} badge in {theme}: {ratio:.2f}:1"


def test_the_contrast_arithmetic_matches_a_known_pair():
    # White on Material green 700 is the 4.12:1 a user measured on the old Running badge.
    assert contrast(rgba("#ffffff"), rgba("#388e3c")) == pytest.approx(4.12, abs=0.01)

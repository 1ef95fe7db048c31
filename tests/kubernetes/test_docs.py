"""The admin guide documents every option the server reads."""

from pathlib import Path

from jupyter_rapids_kf.config import RapidsKF

ADMIN = Path(__file__).resolve().parents[2] / "docs" / "admin.md"


def test_admin_guide_lists_every_option():
    text = ADMIN.read_text()
    missing = [name for name in RapidsKF.class_traits(config=True) if f"| `{name}` |" not in text]
    assert missing == []

"""Chart set-up: a CJK font for matplotlib/seaborn so Chinese labels render, and a house style.

The font comes from the ``mplfonts`` package (Noto Sans CJK SC ships inside it), so no system font is needed.
The backend is left alone: inside a kernel it is the inline backend that puts figures into the report (forcing
Agg would silently drop every chart), and on a headless machine matplotlib falls back to Agg by itself.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path:
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE


def setup_charts() -> str:
    """Register the CJK font, make it the default and apply the house style. Returns the font family name."""
    import seaborn as sns

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["figure.dpi"] = 96
    plt.rcParams["savefig.bbox"] = "tight"
    return family

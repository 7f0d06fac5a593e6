"""Charts render Chinese text: a missing glyph is a failure, not a warning."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt

from digiops.charts import setup_charts


def test_chinese_labels_render_without_missing_glyphs(tmp_path):
    family = setup_charts()
    fig, ax = plt.subplots()
    ax.bar(["华东", "华南", "华北"], [3, 2, 1])
    ax.set_title("各大区销售额（示例茶饮）")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" is a UserWarning
        fig.savefig(tmp_path / "chart.png")
    plt.close(fig)

    assert "CJK" in family
    assert (tmp_path / "chart.png").stat().st_size > 5000

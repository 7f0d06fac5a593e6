"""Report sections are declared once and every stage notebook carries them."""

from __future__ import annotations

from pathlib import Path

import nbformat

from digiops import paths, sections
from digiops.stages import BUILTIN


def test_every_declared_section_is_tagged_in_its_notebook_and_no_other_tag_is():
    for name, stage in BUILTIN.items():
        notebook = nbformat.read(paths.notebooks_dir() / stage.notebook, as_version=4)
        tagged = [sections.section_of(cell) for cell in notebook.cells[2:]]  # after the parameters and opener
        assert None not in tagged, f"{stage.notebook}: a cell belongs to no section"
        assert set(tagged) == {s.key for s in sections.of_stage(name)}, stage.notebook


def test_the_section_keys_are_documented():
    text = (Path(__file__).resolve().parents[1] / "docs" / "deliverables.md").read_text(encoding="utf-8")
    assert all(f"`{key}`" in text for key in sections.BY_KEY)


def test_images_are_found_by_section():
    cell = nbformat.v4.new_code_cell("x", metadata={"tags": ["section-kpi.funnel"]})
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("y")])
    assert sections.images(notebook) == {"kpi.funnel": [b"\x89PNG\r\n\x1a\n"]}

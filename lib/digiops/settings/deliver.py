"""The `deliver:` section of the engagement file: what the deliver stage hands over, commentary and branding."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_COLOUR = r"^#[0-9a-fA-F]{6}$"


class Branding(BaseModel):
    """How the reports, PDFs, deck and workbook look: the client's logo, the consultancy's name and colours."""

    model_config = ConfigDict(extra="forbid")

    consultancy: str = Field("", description="The consultancy's name, shown in every page header and on the slides")
    logo: str | None = Field(None, description="The client's logo (PNG or JPEG, at most 1 MB), relative to the "
                                               "engagement file, e.g. `logo.png`")
    primary: str = Field("#1f4e79", pattern=_COLOUR, description="Main colour (headers, titles), `#rrggbb`")
    accent: str = Field("#e69138", pattern=_COLOUR, description="Accent colour (rules, highlights), `#rrggbb`")


class DeliverSettings(BaseModel):
    """Settings of the deliver stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    commentary: str | None = Field(
        None, description="The consultant's commentary: a Markdown file in the client folder with one "
                          "`## <section>` heading per commented report section (`### zh` / `### en` split the "
                          "languages); see docs/deliverables.md. Shown in the reports, the PDFs and the deck")
    pdf: bool = Field(True, description="Write a PDF of every client report (needs Chromium: `apt-get install "
                                        "chromium`)")
    deck: bool = Field(True, description="Write the steering-committee slide deck (deck.pptx)")
    workbook: bool = Field(True, description="Write the Excel workbook of the key tables (workbook.xlsx)")
    branding: Branding = Field(default_factory=Branding, description="Logo, consultancy name and colours")

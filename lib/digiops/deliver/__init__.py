"""Stage "deliver": what a consultant hands over (seed 003's 交付文档 and 汇报).

:func:`run` is the stage (``06_deliver.ipynb`` calls it), :func:`check` what ``digiops validate`` checks of it.
``pdf`` prints the client pages with Chromium, ``deck`` builds the steering-committee slides, ``workbook`` the Excel
workbook of the key tables; ``stage`` puts them together in ``outputs/deliver/``.
"""

from digiops.deliver.check import check
from digiops.deliver.stage import Deliverable, Delivered, hidden_sections, run

__all__ = ["Deliverable", "Delivered", "check", "hidden_sections", "run"]

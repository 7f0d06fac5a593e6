"""Cells of notebooks/dashboard.ipynb (`python tools/nbgen.py` writes it).

The dashboard notebook is not a stage: no parameters cell; the launcher names the run through the environment.
"""

STAGE = None
CELLS = [("code", """from digiops.dashboard import app_from_environment
app_from_environment()""")]

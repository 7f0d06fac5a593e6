"""The stage sections of the engagement file (``merge:``, ``labels:``, ``maturity:``, ``kpi:``), one module each.

Part of the core, beside :mod:`digiops.engagement`, which validates the file with them: a settings module imports
no stage (the stage imports its settings from here), so loading an engagement never imports a stage's code.
"""

"""Stage "kpi": SMART goals in a KPI tree, decomposed to every unit, reviewed against actuals, loop closed.

Seed 000 (a quantifiable, detachable KPI broken down to each combat unit, the battle situation for the business
owner, a funnel, a closed loop) and seed 004 §1.2 (SMART goals, strategy → business → execution); the formulas are
fixed by DOMAIN.md §4. :func:`run` is the stage (``04_kpi.ipynb`` calls it); :func:`build_review` its pure core;
``report`` and ``charts`` show the result; :func:`check` is what ``digiops validate`` checks of it (the tree format:
docs/catalog-and-tree.md).
"""

from digiops.kpi.attainment import attainment_of, status_of
from digiops.kpi.check import check
from digiops.kpi.funnel import funnel, worst_drop_off
from digiops.kpi.loop import action_effects, compare_runs
from digiops.kpi.review import KpiReview, build_review, run
from digiops.kpi.runrate import runrate
from digiops.kpi.smart import smart_checks
from digiops.kpi.tree import KpiTree, load_tree, parse_tree
from digiops.kpi.variance import lmdi, log_mean, ratio_mix, shapley
from digiops.settings.kpi import KpiSettings

__all__ = ["KpiReview", "KpiSettings", "KpiTree", "action_effects", "attainment_of", "build_review", "check",
           "compare_runs", "funnel", "lmdi", "load_tree", "log_mean", "parse_tree", "ratio_mix",
           "run", "runrate", "shapley", "smart_checks", "status_of", "worst_drop_off"]

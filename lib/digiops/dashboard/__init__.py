"""The client dashboard: ``notebooks/dashboard.ipynb`` served by Voila on one run folder's outputs.

:func:`serve` (the ``digiops dashboard`` command) starts Voila on one run; :func:`app_from_environment` is what the
notebook displays; :mod:`digiops.dashboard.views` holds the pure functions behind each view.
"""

from digiops.dashboard.app import RUN_ENV, Dashboard, app_from_environment, build_app, load_run
from digiops.dashboard.serve import DashboardServer, find_run, serve, start

__all__ = ["RUN_ENV", "Dashboard", "DashboardServer", "app_from_environment", "build_app", "find_run", "load_run",
           "serve", "start"]

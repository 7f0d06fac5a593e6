"""The client dashboard: ``notebooks/dashboard.ipynb`` served by Voila on one run folder's outputs, behind a gateway
that asks for the client's access code.

:func:`serve` (the ``digiops dashboard`` command) starts it for one or more clients; :func:`rotate_code` (``digiops
dashboard-code``) replaces a client's access code; :func:`app_from_environment` is what the notebook displays;
:mod:`digiops.dashboard.views` holds the pure functions behind each view.
"""

from digiops.dashboard.app import RUN_ENV, Dashboard, app_from_environment, build_app, load_run
from digiops.dashboard.serve import DashboardService, find_run, rotate_code, serve, start

__all__ = ["RUN_ENV", "Dashboard", "DashboardService", "app_from_environment", "build_app", "find_run", "load_run",
           "rotate_code", "serve", "start"]

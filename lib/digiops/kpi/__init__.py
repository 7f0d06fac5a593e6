"""Stage 'kpi'."""

"""Stage 'maturity'."""

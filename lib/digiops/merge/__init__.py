"""Stage 'merge'."""

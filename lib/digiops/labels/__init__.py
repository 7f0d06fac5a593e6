"""Stage 'labels'."""

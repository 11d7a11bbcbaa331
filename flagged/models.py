"""Models of the flagged app."""

"""Grow the network of minima and transition states; rate constants (the PATHSAMPLE of the suite)."""

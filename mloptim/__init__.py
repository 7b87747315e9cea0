"""Transition states, pathways and double-ended connect (the OPTIM of the suite)."""

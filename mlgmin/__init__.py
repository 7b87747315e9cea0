"""Basin-hopping global optimisation that fills the stationary-point file (the GMIN of the suite)."""

"""Alignment of coordinates under a landscape's symmetries (clusters, networks, fits)."""

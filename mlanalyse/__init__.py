"""Disconnectivity graphs, heat capacity, network statistics and reports."""

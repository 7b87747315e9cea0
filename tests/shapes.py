"""Cluster geometries shared by the tests."""
import numpy as np


def icosahedron13() -> np.ndarray:
    """A 13-atom Mackay icosahedron (centre plus 12 vertices at radius 1.1), shape (13, 3)."""
    phi = (1 + 5 ** 0.5) / 2
    verts = []
    for a in (-1, 1):
        for b in (-1, 1):
            verts += [(0, a, b * phi), (a, b * phi, 0), (b * phi, 0, a)]
    verts = np.array(verts, dtype=float)
    verts /= np.linalg.norm(verts[0])
    return np.vstack([[0.0, 0.0, 0.0], 1.1 * verts])

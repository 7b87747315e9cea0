"""Compiled (Cython) cost, gradient, Hessian and Hessian-vector kernels.

One ``.pyx`` module per landscape family, each with a NumPy reference implementation in
``kernels/reference/`` that serves as the test oracle.  ``MLLANDSCAPE_KERNELS`` marks this
package as ours: another registry package also installs a top-level ``kernels``.
"""

MLLANDSCAPE_KERNELS = True

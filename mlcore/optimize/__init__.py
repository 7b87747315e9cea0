"""Optimisers: L-BFGS local minimisation (quenches) of any landscape.

    from mlcore.optimize import minimize, LBFGS, QuenchResult
    result = minimize(system, coords, tol=1e-6)          # compiled when system has a kernel

See :mod:`mlcore.optimize.lbfgs` for the algorithm and the defaults.
"""
from mlcore.optimize.lbfgs import LBFGS, compiled_kernel, lbfgs_python, minimize
from mlcore.optimize.result import QuenchResult

__all__ = ["LBFGS", "QuenchResult", "compiled_kernel", "lbfgs_python", "minimize"]

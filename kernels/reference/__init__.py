"""NumPy reference implementations of the compiled kernels (test oracles)."""

"""Build script: the Cython kernels (the metadata, dependencies and console scripts are in
pyproject.toml).

Set ``KERNELS=cluster,nn`` in the environment to build only some kernel modules
(handy while developing one kernel); by default every ``kernels/*.pyx`` is built.
"""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

wanted = {name.strip() for name in os.environ.get("KERNELS", "").split(",") if name.strip()}
sources = sorted(glob.glob(os.path.join("kernels", "*.pyx")))
if wanted:
    sources = [s for s in sources if os.path.splitext(os.path.basename(s))[0] in wanted | {"base"}]

extensions = [
    Extension(
        "kernels." + os.path.splitext(os.path.basename(src))[0],
        [src],
        include_dirs=[numpy.get_include()],
        extra_compile_args=["-O3", "-ffp-contract=off"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for src in sources
]

setup(
    packages=find_packages(include=["kernels", "mlcore", "mlcore.*", "mlgmin", "mloptim",
                                    "mlpathsample", "mlanalyse"]),
    package_data={"kernels": ["*.pxd", "*.pyx"]},
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    zip_safe=False,
)

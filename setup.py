"""Build script: setuptools + Cython kernels, console scripts for the four programs.

Set ``KERNELS=cluster,nn`` in the environment to build only some kernel modules
(handy while developing one kernel); by default every ``kernels/*.pyx`` is built.
"""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
about = {}
with open(os.path.join(HERE, "mlcore", "_version.py")) as fh:
    exec(fh.read(), about)

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
    name="mllandscape",
    version=about["__version__"],
    description="Energy-landscape tools (GMIN/OPTIM/PATHSAMPLE-style) for machine-learning cost functions",
    python_requires=">=3.11",
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
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "h5py>=3.8",
        "click>=8.1",
        "matplotlib>=3.7",
        "networkx>=3.0",
        "tqdm>=4.60",
        "dask[distributed]>=2023.1",
    ],
    extras_require={
        "test": ["pytest>=7"],
        "bench": ["pele==0.1.2"],
    },
    entry_points={
        "console_scripts": [
            "mlgmin = mlgmin.cli:main",
            "mloptim = mloptim.cli:main",
            "mlpathsample = mlpathsample.cli:main",
            "mlanalyse = mlanalyse.cli:main",
        ]
    },
    zip_safe=False,
)

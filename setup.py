"""Build script of the Python package `facepost` (see pyproject.toml): scikit-build runs the
project's CMake with only the Python module on, and setuptools packages python/src/facepost with
the extension CMake built. The version is project(VERSION) of CMakeLists.txt, as for the C++
headers (include/facepost/version.hpp is generated from it); python/tests/test_api.py checks that
the installed distribution's version is the one the extension was compiled with."""
import pathlib
import re
import sys

from skbuild import setup

ROOT = pathlib.Path(__file__).resolve().parent
VERSION = re.search(r"^project\(facepost\s+VERSION\s+([0-9.]+)", (ROOT / "CMakeLists.txt").read_text(),
                    re.MULTILINE).group(1)

cmake_args = [
    f"-DPython_EXECUTABLE={sys.executable}",
    "-DFACEPOST_PYTHON=ON",
    # Only the extension: no tests, tools, benchmarks, examples or C++ install rules.
    "-DFACEPOST_BUILD_TESTS=OFF", "-DFACEPOST_BUILD_TOOLS=OFF", "-DFACEPOST_BUILD_BENCHMARKS=OFF",
    "-DFACEPOST_BUILD_EXAMPLES=OFF", "-DFACEPOST_INSTALL=OFF", "-DFACEPOST_NATIVE=OFF",
]
try:  # pybind11's CMake files: Debian's pybind11-dev has them on CMake's path; a pip pybind11 here
    import pybind11

    cmake_args.append(f"-Dpybind11_DIR={pybind11.get_cmake_dir()}")
except ImportError:
    pass

setup(
    name="facepost",
    version=VERSION,
    description="Post-processing for RetinaFace-family face detectors (priors, decode, exact greedy NMS)",
    long_description=(ROOT / "docs" / "python.md").read_text(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.7",
    install_requires=["numpy"],
    packages=["facepost"],
    package_dir={"": "python/src"},
    package_data={"facepost": ["py.typed", "*.pyi"]},
    cmake_install_dir="python/src",
    cmake_args=cmake_args,
    zip_safe=False,
)

#!/usr/bin/env bash
# The Python package as a user installs it: `pip install --no-build-isolation .` (offline, no
# index) into a fresh venv that sees Debian's numpy/torch/cv2 (--system-site-packages), then
# python/tests run against the installed package from a directory where the source tree's
# package is not importable. FACEPOST_CLI (default build/tools/facepost, from stage 1) is the CLI
# whose defaults test_api.py compares; FACEPOST_VENV (default build/venv) the venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
venv=${FACEPOST_VENV:-$root/build/venv}
export FACEPOST_CLI=${FACEPOST_CLI:-$root/build/tools/facepost}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
run() { echo "+ $*"; "$@"; }

rm -rf "$venv"
run /usr/bin/python3 -m venv --system-site-packages "$venv"
run "$venv/bin/pip" install -q --no-index --no-build-isolation "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run "$venv/bin/python" -c "import sys, facepost
assert facepost.__file__.startswith(sys.prefix), facepost.__file__
print('facepost', facepost.__version__, 'from', facepost.__file__, '- kernels:', facepost.backend_name())"
run "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests"

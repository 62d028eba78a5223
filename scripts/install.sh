#!/usr/bin/env bash
# Install gatewatch into a virtual environment (.venv, or $GATEWATCH_VENV).
#   scripts/install.sh          the product
#   scripts/install.sh test     plus what the tests need
# Needs Python 3.11+ with venv (Debian: apt-get install python3-venv; done here when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GATEWATCH_VENV:-.venv}
extras=${1:-}

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "install.sh: Python's venv module is missing; on Debian run: sudo apt-get install python3-venv" >&2
    exit 1
  fi
fi

[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check ".${extras:+[$extras]}"

# `trackers` asks for OpenCV's GUI build (opencv-python), which needs libGL and X libraries that a
# headless edge box does not have. Both builds install the same `cv2` package, so drop the GUI
# one and put the headless files back.
if "$venv/bin/pip" show -q opencv-python 2>/dev/null; then
  headless=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')
  "$venv/bin/pip" uninstall -q -y opencv-python
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "opencv-python-headless==$headless"
fi
"$venv/bin/python" -c 'import cv2, onnxruntime, pipeline' >/dev/null
echo "gatewatch installed in $venv"

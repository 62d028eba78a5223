#!/usr/bin/env bash
# Install gatewatch into a virtual environment (.venv, or $GATEWATCH_VENV).
#   scripts/install.sh          the product
#   scripts/install.sh test     plus what the tests need (and Debian's chromium for the report tests)
# Needs Python 3.11+ with venv (Debian: apt-get install python3-venv; done here when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GATEWATCH_VENV:-.venv}
extras=${1:-}

# Debian packages: installed when running as root, otherwise the command to run is printed.
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "install.sh: missing Debian package(s) $*; run: sudo apt-get install $*" >&2
    exit 1
  fi
}

python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
# Chinese captions on snapshots and in the report's chart (see pipeline/fonts.py). Without root,
# gatewatch still runs and captions in English; this says what to install.
if [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt_install fonts-noto-cjk
  else
    echo "install.sh: for Chinese captions run: sudo apt-get install fonts-noto-cjk" >&2
  fi
fi
# `report --pdf` lays text out with Pango (WeasyPrint loads it at run time).
if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt_install libpango-1.0-0 libpangoft2-1.0-0
  else
    echo "install.sh: for PDF reports run: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" >&2
  fi
fi
# The tests use real servers from Debian: Chromium (report and web UI, driven by Playwright), the
# mosquitto MQTT broker (with mosquitto_passwd and openssl for the district broker's set-up), and
# GStreamer's RTSP server (run by Debian's python3 with PyGObject).
if [ "$extras" = test ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  command -v openssl >/dev/null || missing+=(openssl)
  /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' 2>/dev/null \
    || missing+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
                 gstreamer1.0-plugins-bad)  # qtdemux, rtph264pay (good), h264parse (bad)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
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

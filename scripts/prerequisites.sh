#!/usr/bin/env bash
# Installs, from Debian's packages, what the two README commands need and a fresh Debian 12 machine may lack.
# Usage: scripts/prerequisites.sh [postgres] [curl] [compose] [node] [python] [fonts] [wrk] [browser] [torch] [sentencepiece]
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for want in "$@"; do
  case "$want" in
    postgres) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql) ;;
    curl) command -v curl >/dev/null 2>&1 || missing+=(curl) ;;
    compose) command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose) ;;
    node) command -v npm >/dev/null 2>&1 || missing+=(nodejs npm) ;;
    browser) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    # The Python client's dependencies and a venv to pip-install it into (clients/python/README.md).
    python) /usr/bin/python3 -c 'import httpx, yaml, venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-httpx python3-yaml python3-venv) ;;
    wrk) command -v wrk >/dev/null 2>&1 || missing+=(wrk) ;;
    torch) /usr/bin/python3 -c 'import torch, onnx' >/dev/null 2>&1 || missing+=(python3-torch python3-onnx)
      # Debian's torch calls whatever libblas.so.3 is chosen: the reference BLAS runs a training step ~10× slower than OpenBLAS.
      [ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] || missing+=(libopenblas0-pthread) ;;
    sentencepiece) /usr/bin/python3 -c 'import sentencepiece' >/dev/null 2>&1 || missing+=(python3-sentencepiece) ;;
    fonts) ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1 || missing+=(fonts-dejavu-core fonts-dejavu-extra) ;;
    *) echo "prerequisites.sh: unknown prerequisite '$want'" >&2; exit 2 ;;
  esac
done
# runuser (util-linux) runs initdb as 'postgres' when we are root; it is part of every Debian system.
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

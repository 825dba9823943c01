# Sourced by bench/reproduce.sh and bench/reproduce-resnet.sh with their arguments: sets seed (from --seed N, default
# 1) and fetches what both benchmarks read (MNIST, Fashion-MNIST, the 8×8 digits; the fonts the glyphs are drawn from).
source bench/seed-argument.sh "$@"
bench/fetch-data.sh
scripts/prerequisites.sh fonts

# Sourced by the reproduction scripts with their arguments: sets seed from --seed N (default 1).
seed=1
args=("$@")
# An if, not `[ … ] && seed=…`: under set -e a loop whose last test is false would end the sourcing script.
for ((i = 0; i < ${#args[@]}; i++)); do if [ "${args[$i]}" = --seed ]; then seed=${args[$((i + 1))]}; fi; done

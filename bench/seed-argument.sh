# Sourced by the reproduction scripts with their arguments: sets seed from --seed N (default 1).
seed=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = --seed ] && seed=${args[$((i + 1))]}; done

# Shell helpers of the bench scripts (sourced).
# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# The median_ms=… value of a `--bench` report on stdin.
ms() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
# alternate THREADS RUNS ROUNDS CMD...: runs every CMD (a command line, to
# which `--threads THREADS --bench RUNS` is appended) once per round, in
# turn, for ROUNDS rounds; prints the median of each CMD's round medians,
# one line per CMD, in order.
alternate() {
  local threads="$1" runs="$2" rounds="$3"; shift 3
  local -a times=() cmds=("$@")
  local r i
  for ((r = 0; r < rounds; ++r)); do
    for i in "${!cmds[@]}"; do
      times[i]+="$(eval "${cmds[i]} --threads $threads --bench $runs" | ms) "
    done
  done
  for i in "${!cmds[@]}"; do
    tr ' ' '\n' <<< "${times[i]}" | sed '/^$/d' | median
  done
}

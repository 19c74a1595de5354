# Shell helpers of the bench scripts (sourced).
# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# The median_ms=… value of a `--bench` report on stdin.
ms() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }

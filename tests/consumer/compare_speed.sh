#!/usr/bin/env bash
# A consumer's build against scratchnet's own -march=native build, in one run:
#   compare_speed.sh CONSUMER_EPOCHS NATIVE_EPOCHS MNIST_DIR [ROUNDS] [LIMIT]
# runs the two epoch programs (epochs.cpp, built both ways) in turn ROUNDS times
# (default 3), alternating which goes first, and prints each network's median
# times and the median of the paired ratios consumer / native. Exits 1 when a
# ratio exceeds LIMIT (default 1.25): kernels chosen at run time (isa.hpp) keep
# the two within a few per cent, and a consumer build that lost them runs 1.3x
# to 4x slower. The limit leaves room for a noisy machine, not for a lost kernel.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONSUMER_EPOCHS NATIVE_EPOCHS MNIST_DIR [ROUNDS] [LIMIT]" >&2
  exit 2
fi
consumer=$1 native=$2 data=$3 rounds=${4:-3} limit=${5:-1.25}
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT
for ((round = 0; round < rounds; ++round)); do
  if ((round % 2 == 0)); then order="consumer native"; else order="native consumer"; fi
  for build in $order; do
    program=$consumer
    [ "$build" = native ] && program=$native
    "$program" "$data" | awk -v b="$build" -v r="$round" '$1 != "isa" { print r, b, $1, $2 }' >>"$runs"
  done
done
awk -v limit="$limit" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] > a[j]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { t[$1 SUBSEP $2 SUBSEP $3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[++networks] = $3 }; if ($1 + 1 > rounds) rounds = $1 + 1 }
  END {
    bad = 0
    printf "%-10s %12s %12s %18s\n", "network", "consumer s", "native s", "consumer / native"
    for (k = 1; k <= networks; ++k) {
      net = order[k]; c = n = q = ""
      for (r = 0; r < rounds; ++r) {
        c = c " " t[r SUBSEP "consumer" SUBSEP net]; n = n " " t[r SUBSEP "native" SUBSEP net]
        q = q " " t[r SUBSEP "consumer" SUBSEP net] / t[r SUBSEP "native" SUBSEP net]
      }
      ratio = median(q)
      printf "%-10s %12.3f %12.3f %18.3f\n", net, median(c), median(n), ratio
      if (ratio > limit) { printf "%s: the consumer build is %.2fx the native build (limit %.2f)\n", net, ratio, limit; bad = 1 }
    }
    if (networks == 0) { print "no timings: did the programs find MNIST?"; bad = 1 }
    exit bad
  }' "$runs"

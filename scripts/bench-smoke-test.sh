#!/usr/bin/env bash
# The benchmarks exe, as built by `dotnet build SelfAttention.sln -c Release`: the quick table on the toy shape
# validates and times the library, TensorPrimitives and both ONNX Runtime routes in one process (each checked against
# the naive oracle, 0 bytes allocated per call), and the command line follows the shared rules (exit 2, one line).
# Usage: scripts/bench-smoke-test.sh            (CI runs it; exits non-zero on the first failure)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench="$root/bench/SelfAttention.Benchmarks/bin/Release/net10.0/SelfAttention.Benchmarks"
test -x "$bench" || { echo "build the solution first: $bench is missing"; exit 1; }
err="$(mktemp)"
trap 'rm -f "$err"' EXIT

echo "=== quick table, toy shape, library against TensorPrimitives and ONNX Runtime ==="
table="$("$bench" quick --shapes toy --impl auto,tensorprimitives,ort --seconds 1 --warmup 0 --no-peak)"
echo "$table"
for name in Auto TensorPrimitives ORT/MHA ORT/Attention; do
    grep -qE "^  $name +ok, max \|Δ\|" <<<"$table" || { echo "$name was not validated against the oracle"; exit 1; }
    row="$(grep -E "^$name " <<<"$table" | tail -n 1)" || { echo "$name was not timed"; exit 1; }
    bytes="$(awk '{print $(NF-1)}' <<<"$row")"
    [[ "$bytes" == 0 ]] || { echo "$name allocated $bytes B per call"; exit 1; }
done

echo "=== usage errors: exit 2, one line on stderr ==="
for args in "quick --threads 0" "quick --shapes huge" "quick --causal --causal" "frobnicate" "quick --sceonds 1"; do
    set +e
    # shellcheck disable=SC2086  # the cases are word lists
    "$bench" $args >/dev/null 2>"$err"
    code=$?
    set -e
    lines="$(wc -l <"$err")"
    echo "  $args -> exit $code: $(cat "$err")"
    [[ $code == 2 && $lines == 1 ]] || { echo "expected exit 2 and one line"; exit 1; }
done
"$bench" quick --help | grep -q "^Examples:" || { echo "quick --help has no examples"; exit 1; }
echo "bench smoke test: OK"

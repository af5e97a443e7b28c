#!/usr/bin/env bash
# Runs every Go fuzz target in the given directories for FUZZTIME each.
# A crash (the fuzzer writes a failing input) fails at once. Go's fuzzing
# coordinator sometimes gives up with "context deadline exceeded" when the
# machine is so busy that a worker misses the end of the run; that is not a
# finding, so that one case is retried (twice at most) before it counts as a failure.
set -uo pipefail
fuzztime="${FUZZTIME:-5s}"
status=0
for f in $(grep -rl --include='*_test.go' '^func Fuzz' "$@" 2>/dev/null | sort); do
  dir=$(dirname "$f")
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/func //'); do
    for attempt in 1 2 3; do
      echo "fuzz ./$dir $fn (attempt $attempt)"
      out=$(go test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" "./$dir" 2>&1)
      rc=$?
      echo "$out" | tail -4
      if [ $rc -eq 0 ]; then break; fi
      if [ $attempt -lt 3 ] && echo "$out" | grep -q 'context deadline exceeded' && ! echo "$out" | grep -q 'Failing input'; then
        echo "fuzz $fn: the fuzzing coordinator timed out on a busy machine; retrying"
        continue
      fi
      echo "$out" >&2
      echo "FUZZ FAILED: ./$dir $fn" >&2
      status=1
      break
    done
  done
done
exit $status

# checks.sh — what the shell test scripts share (sourced, not run):
# counted checks that print "ok - NAME" or "FAIL - NAME" with details
# indented below, and the closing "N passed, M failed".

pass=0
failed=0

ok() {
  pass=$((pass + 1))
  printf 'ok - %s\n' "$1"
}

# ko NAME [DETAILS]
ko() {
  failed=$((failed + 1))
  printf 'FAIL - %s\n' "$1"
  if [ $# -gt 1 ]; then printf '%s\n' "$2" | sed 's/^/    /'; fi
}

# Prints the totals; the script's exit status is non-zero on a failure.
checks_done() {
  printf '%d passed, %d failed\n' "$pass" "$failed"
  [ "$failed" -eq 0 ]
}

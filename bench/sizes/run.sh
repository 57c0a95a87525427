#!/bin/sh
# Issue 19's size cases: wall time and peak RSS of each (GNU time), 150 s at most each.
#   npm run build && sh bench/sizes/run.sh [case…]
D=${FPLC_SIZES_DIR:-/tmp/fplc-sizes}
CAP=samples/web.pcap
node bench/sizes/gen.mjs "$D"
export FPLC_CACHE_DIR="$D/cache"
measure() {
  name=$1; shift
  /usr/bin/time -f "%e %M" -o "$D/time" timeout ${FPLC_SIZES_TIMEOUT:-150} "$@" >"$D/out" 2>"$D/err"; rc=$?
  set -- $(tail -1 "$D/time")
  printf '%-22s rc=%-3s %8ss %8d MB  %s\n' "$name" "$rc" "$1" "$(($2 / 1024))" "$(head -c 160 "$D/err" | tr '\n' ' ')"
}
cases=${*:-"ports tcpand plus hp3000 hp30000 strsearch apply2000 apply8000 apply43690"}
for c in $cases; do
  case $c in
    ports) measure ports-100000 node bin/fpl.js run --no-cache -r $CAP -F "$D/ports-100000.txt" ;;
    tcpand) measure tcp-and-100000 node bin/fpl.js run --no-cache -r $CAP -F "$D/tcp-and-100000.txt" ;;
    plus) measure plus-100000 node bin/fpl.js run --no-cache -r $CAP -F "$D/plus-100000.txt" ;;
    hp3000) measure host-port-3000 node bin/fpl.js run --no-cache -r $CAP -F "$D/host-port-3000.txt" ;;
    hp30000) measure host-port-30000 node bin/fpl.js run --no-cache -r $CAP -F "$D/host-port-30000.txt" ;;
    strsearch) measure str-search-2000 node bin/fpl.js run --no-cache -r $CAP "$D/str-search-2000.fpl" ;;
    apply2000) measure apply-2000 node bench/sizes/apply.mjs 2000 $CAP ;;
    apply8000) measure apply-8000 node bench/sizes/apply.mjs 8000 $CAP ;;
    apply43690) measure apply-43690 node bench/sizes/apply.mjs 43690 $CAP ;;
  esac
done

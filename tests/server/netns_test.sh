#!/bin/sh
# Runs kring_server_tests' [netns] tests in a new user and network namespace (no privileges
# needed where unprivileged user namespaces are allowed; root in CI), with the IPv6 addresses
# they dial on its loopback. Exits 77 (ctest: skipped) where that cannot be done.
# Usage: netns_test.sh path/to/kring_server_tests
set -eu
tests=$1
skip() {
  echo "SKIPPED: $1" >&2
  exit 77
}
command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is not installed"
ip=$(command -v ip 2>/dev/null || true)
[ -n "$ip" ] || for p in /usr/sbin/ip /sbin/ip /bin/ip; do [ -x "$p" ] && ip=$p && break; done
[ -n "$ip" ] || skip "ip (iproute2) is not installed"
unshare -Urn true 2>/dev/null || skip "cannot create a user and network namespace (unshare -Urn)"
# 2001:db8:a:1::1 .. :5::1 are five /64s of the /56 2001:db8:a::/56; :100::1 another /56;
# 2001:db8:b:1::1, c:1::1 and d:1::1 are /64s of three more /48s.
exec unshare -Urn sh -c '
  set -e
  "$1" link set lo up
  for n in 1 2 3 4 5 100; do "$1" addr add "2001:db8:a:$n::1/128" dev lo nodad; done
  for s in b c d; do "$1" addr add "2001:db8:$s:1::1/128" dev lo nodad; done
  exec "$2" "[netns]"
' netns "$ip" "$tests"

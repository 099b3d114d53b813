#!/usr/bin/env bash
# Fails unless every kring_status code in the C header is mapped, with the same number, by the
# Java binding (KringException.Status) and the Swift-facing enum (KringStatus.swift); and unless
# neither binding maps a code the header lacks. Run by ctest (label abi).
# Usage: bindings/check_status_codes.sh [repository root]
set -euo pipefail

root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
header="$root/bindings/c/include/kring/kring.h"
java="$root/bindings/java/src/nl/kring/KringException.java"
swift="$root/bindings/swift/KringStatus.swift"
for f in "$header" "$java" "$swift"; do
  [[ -f "$f" ]] || { echo "missing: $f" >&2; exit 1; }
done

# NAME=NUMBER lines, sorted. Header: the kring_status enum only ("KRING_OK = 0", "KRING_ERR_X = 1").
c_codes=$(sed -n '/^typedef enum kring_status {/,/} kring_status;/p' "$header" |
  sed -nE 's/^[[:space:]]*KRING_(ERR_)?([A-Z_]+)[[:space:]]*=[[:space:]]*([0-9]+).*/\2=\3/p' | sort)
# Java: enum constants "NAME(NUMBER)" inside "enum Status".
java_codes=$(sed -n '/enum Status {/,/^  }/p' "$java" |
  sed -nE 's/^[[:space:]]*([A-Z_]+)\(([0-9]+)\)[,;].*/\1=\2/p' | sort)
# Swift: "case camelName = NUMBER", camelCase -> UPPER_SNAKE.
swift_codes=$(sed -nE 's/^[[:space:]]*case[[:space:]]+`?([a-zA-Z]+)`?[[:space:]]*=[[:space:]]*([0-9]+).*/\1=\2/p' "$swift" |
  sed -E 's/([a-z])([A-Z])/\1_\2/g' | tr '[:lower:]' '[:upper:]' | sort)

if [[ -z "$c_codes" ]]; then
  echo "no kring_status codes found in $header" >&2
  exit 1
fi

status=0
compare() {
  local name="$1" codes="$2"
  local missing extra
  missing=$(comm -23 <(echo "$c_codes") <(echo "$codes"))
  extra=$(comm -13 <(echo "$c_codes") <(echo "$codes"))
  if [[ -n "$missing" ]]; then
    echo "$name does not map these kring_status codes (NAME=number):" >&2
    echo "$missing" | sed 's/^/  /' >&2
    status=1
  fi
  if [[ -n "$extra" ]]; then
    echo "$name maps codes the C header does not have (or with another number):" >&2
    echo "$extra" | sed 's/^/  /' >&2
    status=1
  fi
}
compare "Java (KringException.Status)" "$java_codes"
compare "Swift (KringStatus.swift)" "$swift_codes"
if [[ $status -eq 0 ]]; then
  echo "Java and Swift map all $(echo "$c_codes" | wc -l) kring_status codes"
fi
exit $status

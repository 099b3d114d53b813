#!/bin/bash
# make fuzz: runs each libFuzzer target (built into BUILD_DIR by the Makefile) for SECONDS,
# starting from its committed seeds (tests/fuzz/seeds/<target>.hex) and the corpus earlier runs
# left in BUILD_DIR/fuzz-corpus/<target>. An input that breaks a property or trips ASan/UBSan is
# kept as BUILD_DIR/fuzz-findings/<target>-crash-*; add it to the seeds (one hex line) with the
# fix, so that `make test` repeats it from then on.
#   run_fuzz.sh BUILD_DIR SECONDS TARGET...
set -euo pipefail
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
failed=()
for target in "$@"; do
  corpus="$build/fuzz-corpus/$target"
  mkdir -p "$corpus" "$build/fuzz-findings"
  # One file per seed line, named by its content, as libFuzzer names its corpus files.
  python3 - "$here/seeds/$target.hex" "$corpus" <<'PY'
import hashlib, pathlib, sys
seeds, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
if seeds.exists():
    for line in seeds.read_text().splitlines():
        if line and not line.startswith("#"):
            data = bytes.fromhex(line)
            (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
PY
  echo "fuzz: $target for ${seconds}s"
  if ! "$build/tests/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -artifact_prefix="$build/fuzz-findings/$target-" "$corpus" >"$build/fuzz-findings/$target.log" 2>&1; then
    failed+=("$target")
    grep -E "property failed|ERROR|runtime error" "$build/fuzz-findings/$target.log" | head -5 || true
  fi
  grep -E "^#[0-9]+.*DONE" "$build/fuzz-findings/$target.log" | tail -1 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (inputs and logs in $build/fuzz-findings/)" >&2
  exit 1
fi
echo "fuzz: no findings"

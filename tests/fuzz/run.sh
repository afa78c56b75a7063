#!/bin/sh
# Run every libFuzzer harness of a fuzz build for a bounded time, from a copy of its seed corpus.
# usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_EACH]   (BUILD_DIR from: CC=clang meson setup
# BUILD_DIR -Dfuzz=true -Db_lundef=false). A crash leaves its input in BUILD_DIR/fuzz-artifacts/.
set -u
build=$1
secs=${2:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
mkdir -p "$build/fuzz-artifacts"
for exe in "$build"/tests/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=${exe##*/fuzz_}
	work=$(mktemp -d)
	cp "$root/tests/fuzz/corpus/$name"/* "$work/" 2>/dev/null
	echo "fuzz_$name: ${secs}s"
	if "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-artifacts/$name-" "$work" > "$build/fuzz-$name.log" 2>&1; then
		passed=$((passed + 1))
		grep -E "stat::number_of_executed_units" "$build/fuzz-$name.log" | sed "s/^/  /"
	else
		failed=$((failed + 1))
		echo "FAIL fuzz_$name:"
		tail -40 "$build/fuzz-$name.log"
	fi
	rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/bin/bash
# Build and run every test: the warning-free build (-Werror), the same tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and each libFuzzer harness for a bounded time
# (FUZZ_SECONDS each, default 30; a longer run: tests/fuzz/run.sh build-fuzz 3600).
# Run deploy/setup.sh first (the README's test command does both).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzz_secs=${FUZZ_SECONDS:-30}
status=0
total_pass=0
total_fail=0

setup() { # DIR [meson args...]
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" > /dev/null
	else
		meson setup "$dir" "$@" > /dev/null
	fi
}

count() { # DIR: add the meson test results to the totals
	local p f
	p=$(grep -c '"result": "\(OK\|EXPECTEDFAIL\)"' "$1/meson-logs/testlog.json" 2>/dev/null)
	f=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$1/meson-logs/testlog.json" 2>/dev/null)
	total_pass=$((total_pass + ${p:-0}))
	total_fail=$((total_fail + ${f:-0}))
}

run_suite() { # NAME DIR [meson args...]
	local name=$1 dir=$2
	shift 2
	echo "== $name"
	if ! setup "$dir" -Dwerror=true "$@" || ! ninja -C "$dir"; then
		echo "FAIL: $name does not build"
		status=1
		total_fail=$((total_fail + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs || status=1
	count "$dir"
}

run_suite "build and test (gcc, -Werror)" build-test
run_suite "ASan + UBSan" build-asan -Db_sanitize=address,undefined -Db_lundef=false

echo "== fuzz (${fuzz_secs}s per harness)"
if CC=clang setup build-fuzz -Dfuzz=true -Db_lundef=false && ninja -C build-fuzz > /dev/null; then
	out=$(tests/fuzz/run.sh build-fuzz "$fuzz_secs")
	rc=$?
	echo "$out"
	[ $rc -eq 0 ] || status=1
	p=$(echo "$out" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	total_pass=$((total_pass + ${p:-0}))
	total_fail=$((total_fail + ${f:-1}))
else
	echo "FAIL: the fuzz build failed"
	status=1
	total_fail=$((total_fail + 1))
fi

[ "$total_fail" -eq 0 ] || status=1
[ "$total_pass" -gt 0 ] || status=1
echo "total: $total_pass passed, $total_fail failed"
exit $status

#!/bin/sh
# The docs come from the catalogs: every decode error of shared/ha_errors.def is documented in
# docs/codec.md, and every README command names a script that exists.
# usage: docs_check.sh SOURCE_ROOT
set -eu
root=$1
failed=0 passed=0
for name in $(sed -n 's/^X([A-Z_0-9]*, *"\([a-z0-9-]*\)".*/\1/p' "$root/shared/ha_errors.def"); do
	[ "$name" = ok ] && continue
	if grep -q "\`$name\`" "$root/docs/codec.md"; then
		passed=$((passed + 1))
	else
		echo "FAIL: error $name is not in docs/codec.md"
		failed=$((failed + 1))
	fi
done
for script in deploy/setup.sh deploy/run_lab.sh tests/run_all.sh; do
	if grep -q "$script" "$root/README.md" && [ -x "$root/$script" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL: README does not name $script, or it is not executable"
		failed=$((failed + 1))
	fi
done
echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

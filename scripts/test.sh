#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need, builds (e2e tests spawn the
# compiled gateway and workers), lints the dependency edges, runs vitest, and prints one closing
# line `vitest: N passed, N failed` that CI reads. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

bash scripts/setup-test-deps.sh || { echo "setup of test dependencies failed"; echo "vitest: 0 passed, 1 failed"; exit 1; }

echo "== build"
npm run -s build || { echo "build failed"; echo "vitest: 0 passed, 1 failed"; exit 1; }
echo "== lint"
npx eslint . || { echo "lint failed"; echo "vitest: 0 passed, 1 failed"; exit 1; }

echo "== vitest"
results=.vitest-results.json
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
status=$?
if [ -f "$results" ]; then
  node -e '
    const r = require(process.argv[1]);
    const passed = r.numPassedTests, failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0), skipped = r.numPendingTests + r.numTodoTests;
    console.log(`vitest: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$PWD/$results"
else
  echo "vitest: 0 passed, 1 failed"
  [ $status -eq 0 ] && status=1
fi
exit $status

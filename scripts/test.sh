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

# Two passes: everything in parallel, then the timing-sensitive *.serial.spec.ts files alone (real
# processes with real SWIM and drain timeouts must not share the cores with other test files).
echo "== vitest (parallel pass)"
rm -f .vitest-results.json .vitest-results-serial.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results.json "$@"
status=$?
echo "== vitest (serial pass: *.serial.spec.ts)"
DROVER_TEST_PASS=serial npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results-serial.json "$@"
serial_status=$?
[ $status -eq 0 ] && status=$serial_status
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed++; console.log(`missing results: ${f}`); continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`vitest: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(failed > 0 ? 1 : 0);
' "$PWD/.vitest-results.json" "$PWD/.vitest-results-serial.json" || { [ $status -eq 0 ] && status=1; }
exit $status

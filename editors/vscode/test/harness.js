// A tiny test runner for plain node (`node test/x.test.js`): `test(name, fn)` then `run()`.
"use strict";

const tests = [];

/** Registers a test; `fn` may be async. */
function test(name, fn) {
  tests.push({ name, fn });
}

/** Runs the tests in order, prints each result, runs `cleanup`, exits 1 if any failed. */
async function run(cleanup = () => {}) {
  let failed = 0;
  for (const t of tests) {
    try {
      await t.fn();
      console.log(`✓ ${t.name}`);
    } catch (err) {
      failed++;
      console.log(`✗ ${t.name}\n  ${(err && err.stack) || err}`);
    }
  }
  cleanup();
  console.log(`${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

module.exports = { test, run };

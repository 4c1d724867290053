// One measurement process: `node [flags] bench/child.cjs BUNDLE RESULT_FILE NAME...` loads a bench module
// bundle, runs the named measurements and writes their outcomes to RESULT_FILE as JSON. Started by run.ts;
// this stub (not the bundle) is the main module, so code that checks `require.main === module` (the CLI)
// does not start itself when the bundle includes it.
'use strict';
const fs = require('node:fs');

const [bundle, resultFile, ...names] = process.argv.slice(2);
const ctx = { ...JSON.parse(process.env.BENCH_CTX || '{}'), log: m => process.stderr.write(`  ${m}\n`) };
// measurements read their own argv; keep only the script so nothing mistakes ours for theirs
process.argv = process.argv.slice(0, 2);

function write(outcomes) {
  fs.writeFileSync(resultFile, JSON.stringify(outcomes));
}

Promise.resolve()
  .then(() => require(bundle).measure(names, ctx))
  .then(outcomes => { write(outcomes); process.exit(0); })
  .catch(e => {
    const message = e && e.stack ? String(e.stack).split('\n').slice(0, 6).join('\n') : String(e);
    write(Object.fromEntries(names.map(n => [n, { kind: 'error', message }])));
    process.exit(0);
  });

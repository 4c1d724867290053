// The whole test suite, as `npm test` runs it: unit + property tests, every example scenario with its
// expect: blocks, then the end-to-end suite in real VS Code (code-server + Debian chromium).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const run = (cmd, args, env = {}) => {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed with status ${r.status ?? r.signal}`);
    process.exit(r.status || 1);
  }
};
const listTests = (dir, suffix) => fs.existsSync(dir)
  ? fs.readdirSync(dir, { recursive: true }).map(String).filter(f => f.endsWith(suffix)).map(f => path.join(dir, f)).sort()
  : [];

// test/fuzz: seeded fuzz suites (each target in a child process with a heap cap and a per-case time bound)
const unit = [...listTests('test/unit', '.test.ts'), ...listTests('test/fuzz', '.fuzz.test.ts')];
run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...unit]);
const e2e = listTests('test/e2e', '.e2e.test.mjs');
if (e2e.length && !process.env.IOMMU_LENS_SKIP_E2E) {
  run('bash', ['scripts/setup-code-server.sh']);
  run(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...e2e]);
}

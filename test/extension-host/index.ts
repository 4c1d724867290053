// Loaded by the VS Code extension host through the `extensionTestsPath` payload (see test/e2e/harness.mjs).
// esbuild bundles this file and the suites into dist/test/index.js; mocha stays external. The suites register
// their describe() blocks when called, after mocha has installed its globals.
import Mocha from 'mocha';
import { activationSuite } from './activation.suite';
import { scenarioSuite } from './scenario.suite';
import { treeSuite } from './tree.suite';
import { editorSuite } from './editor.suite';
import { exportSuite } from './export.suite';
import { mapSuite } from './map.suite';
import { annotationsSuite } from './annotations.suite';

export function run(): Promise<void> {
  const grep = process.env.IOMMU_LENS_TEST_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30000, reporter: 'spec', ...(grep ? { grep } : {}) });
  mocha.suite.emit('pre-require', globalThis, 'extension-host', mocha);
  for (const register of [activationSuite, scenarioSuite, treeSuite, editorSuite, exportSuite, mapSuite, annotationsSuite]) register();
  return new Promise((resolve, reject) => {
    mocha.run(failures => {
      console.log(`IOMMU_LENS_TEST_RESULT failures=${failures}`);
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
  });
}

// Scenario files (../shared/spec/scenario-format.md) to a validated Scenario. Every bad input is a
// ScenarioError with the file, line and column of the offending key or value; nothing is rounded.
//
// Pipeline: text -> tree with positions (yaml-tree.ts) -> platform (platform-loader.ts), kernel
// (kernel-loader.ts), steps with their arguments checked against the op schemas (steps-loader.ts).
// Million-step files: the fast parser hands each step to the steps builder as soon as it is parsed, and
// steps keep their positions in a compact table (positions.ts), so little is left for the GC to copy.
// Steps, expectations and references are therefore class instances whose `pos`/`argPos`/`keyPos` are
// getters; JSON.stringify includes them (toJSON), but `{ ...step }` does not. A step whose exact text was
// loaded before is made again from that step (step-templates.ts): generated files repeat a few dozen texts.
import { readFileSync, statSync } from 'node:fs';
import './schemas';
import { Scenario, ScenarioError } from './types';
import { ValidateCtx, expectMap, expectScalar, fail, unknownKey } from './args';
import { addDevices, loadPlatform } from './platform-loader';
import { applyKernel, defaultKernel, jsToTree } from './kernel-loader';
import { Rebinding, StepsBuilder } from './steps-loader';
import { checkNoNul, decodeScenarioBytes } from './source-text';
import { parseTree } from './yaml-tree';
import type { StepReuse } from './fast-yaml';
import { StepTemplate, StepTemplates } from './step-templates';
import { YEntry, YNode } from './yaml-nodes';
import { LIMITS, LIMITS_DOC, fileTooLarge } from '../limits';

export { BadValue, MAX_EXACT, parseLiteral, parseRefExpr, parseValueExpr, refText, resolveExpr, resolveRef } from './values';
export type { LiteralOptions } from './values';
export type { Rebinding } from './steps-loader';
export { ScenarioError } from './types';

export interface LoadedScenario extends Scenario {
  description?: string;
  /** `as:` names bound again by a later step (allowed; references after it see the newer value) */
  rebinds: Rebinding[];
}

const TOP_KEYS = ['name', 'description', 'platform', 'kernel', 'devices', 'steps'];

export interface LoadOptions {
  /**
   * make a step whose exact text was loaded before from what that gave (step-templates.ts); default true. The
   * result is the same either way: false is for tests that compare the two.
   */
  reuseSteps?: boolean;
}

/** Parse and validate a scenario. `file` is the name errors carry. Throws ScenarioError. */
export function loadScenario(text: string, file: string, opts: LoadOptions = {}): LoadedScenario {
  const tooLarge = fileTooLarge('scenario text', text.length, 'scenarioBytes');
  if (tooLarge) throw new ScenarioError({ file, line: 1, col: 1 }, tooLarge);
  checkNoNul(text, file);
  const laterBinding = (name: string, afterLine: number) => findLaterBinding(text, name, afterLine);
  let builder = new StepsBuilder(file, laterBinding);
  let streamedSteps = 0;
  const templates = new StepTemplates();
  const reuse: StepReuse<StepTemplate> = {
    get active() { return templates.active; },
    find: itemText => templates.lookup(itemText),
    take(t, line) {
      if (streamedSteps >= LIMITS.steps || !builder.addFromTemplate(t, line)) return false;
      streamedSteps++;
      return true;
    },
    learn: (itemText, line) => templates.remember(itemText, builder.templateOfLast(line)),
  };
  const { root, streamed } = parseTree(text, file, item => {
    if (++streamedSteps > LIMITS.steps) tooManySteps(file, item);
    builder.add(item);
  }, opts.reuseSteps === false ? undefined : reuse);
  if (!streamed) builder = new StepsBuilder(file, laterBinding);
  if (root === null) {
    throw new ScenarioError({ file, line: 1, col: 1 }, "empty scenario: expected a mapping with 'platform' and 'steps'");
  }
  const cx: ValidateCtx = { file, refs: null };
  const map = expectMap(root, 'scenario', cx);
  const top: Partial<Record<string, YEntry>> = {};
  for (const e of map.entries) {
    if (!TOP_KEYS.includes(e.key)) unknownKey(cx, e, TOP_KEYS, '');
    top[e.key] = e;
  }
  if (!top.platform) fail(cx, map, "missing required key 'platform' (a preset name such as apple-t8103, or an inline platform)");

  const name = top.name ? expectScalar(top.name.value, 'name', cx, 'a string').text : defaultName(file);
  const description = top.description ? expectScalar(top.description.value, 'description', cx, 'a string').text : undefined;

  const { platform, presetKernel } = loadPlatform(top.platform.value, file);
  const kernel = defaultKernel();
  if (presetKernel) applyKernel(kernel, jsToTree(presetKernel.values), presetKernel.file);
  if (top.kernel) applyKernel(kernel, top.kernel.value, file);
  if (top.devices) addDevices(top.devices.value, cx, platform.iommus, platform.devices);

  if (top.steps && (!streamed || top.steps.value.kind !== 'seq')) {
    const steps = top.steps.value;
    if (steps.kind === 'seq' && steps.items.length > LIMITS.steps) tooManySteps(file, steps.items[LIMITS.steps]);
    builder.addAll(steps);
  }
  const scenario: LoadedScenario = { file, name, platform, kernel, steps: builder.steps, rebinds: builder.rebinds };
  if (description !== undefined) scenario.description = description;
  return scenario;
}

function tooManySteps(file: string, item: YNode): never {
  throw new ScenarioError({ file, line: item.line, col: item.col },
    `more than ${LIMITS.steps} steps; split the scenario (simulator limit steps; see ${LIMITS_DOC})`);
}

/** Read and load a scenario file. Unreadable files are a ScenarioError at 1:1 naming the reason. */
export function loadScenarioFile(path: string): LoadedScenario {
  let bytes: Uint8Array;
  try {
    const tooLarge = fileTooLarge('scenario file', statSync(path).size, 'scenarioBytes');
    if (tooLarge) throw new ScenarioError({ file: path, line: 1, col: 1 }, tooLarge);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file'
      : code === 'EISDIR' ? 'it is a directory'
      : code === 'EACCES' ? 'permission denied'
      : (e as Error).message;
    throw new ScenarioError({ file: path, line: 1, col: 1 }, `cannot read scenario file: ${reason}`);
  }
  return loadScenario(decodeScenarioBytes(bytes, path), path);
}

/** Only for an unknown-reference message: the line of a later `as: NAME`, searched in the text. */
function findLaterBinding(text: string, name: string, afterLine: number): string | undefined {
  let offset = 0;
  for (let line = 1; line < afterLine && offset !== -1; line++) offset = text.indexOf('\n', offset) + 1 || -1;
  if (offset === -1) return undefined;
  const re = new RegExp(`(^|[\\s{,])as:\\s*["']?${name}["']?\\s*($|[\\s,}#])`, 'gm');
  re.lastIndex = offset;
  const m = re.exec(text);
  if (!m) return undefined;
  return `line ${text.slice(0, m.index + m[1].length).split('\n').length}`;
}

/** dir/m1-xhci.iommu.yaml -> m1-xhci */
function defaultName(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  return base.replace(/(\.iommu)?\.(ya?ml|json)$/, '') || base;
}

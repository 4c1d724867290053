// `platform:` (a preset name or an inline { memory, iommus, devices }) and `devices:`. A preset's text is
// parsed like an inline platform under the file name preset:NAME, so its errors point into the preset.
import type { ArgField } from './opspec';
import { getModelParams, getPreset, modelNames, presetNames } from '../platform/registry';
import { ArgValue, DeviceSpec, IommuSpec, MemorySpec, PlatformSpec, ScenarioError, SourcePos } from './types';
import { ValidateCtx, expectMap, expectScalar, fail, failKey, freeValue, posAt, unknownKey, validateObject } from './args';
import { oneOf, unknownName } from './suggest';
import { parseTree } from './yaml-tree';
import { YEntry, YMap, YNode, YSeq, isNullScalar } from './yaml-nodes';

export const DEFAULT_MEMORY: Readonly<MemorySpec> = { base: 0x80000000, size: 4 * 2 ** 30 };

const MEMORY_FIELDS: Record<string, ArgField> = {
  base: { type: 'u64', doc: 'first physical address of RAM' },
  size: { type: 'u64', doc: 'bytes of RAM', min: 1 },
};

const DEVICE_FIELDS: Record<string, ArgField> = {
  name: { type: 'string', required: true, doc: 'device name used by steps' },
  iommu: { type: 'name', doc: 'the IOMMU the device sits behind (none: direct mapping)' },
  iommus: { type: { list: 'name' }, doc: 'several IOMMUs (dual DARTs)' },
  streams: { type: { list: 'int' }, min: 0, doc: 'stream / requester ids' },
  bus: { type: { enum: ['platform', 'pci'] }, doc: 'platform (default) or pci' },
  untrusted: { type: 'bool', doc: 'external-facing: bounce through swiotlb' },
  coherent: { type: 'bool', doc: 'cache-coherent DMA (default true)' },
  dma_mask: { type: 'int', doc: 'DMA address bits, 1..64 (checked with a hint below)' },
  group: { type: 'string', doc: 'explicit IOMMU group name' },
};
const DEVICE_EXTRA_KEYS = ['params'];
const PLATFORM_KEYS = ['memory', 'iommus', 'devices'];

export interface LoadedPlatform {
  platform: PlatformSpec;
  /** kernel defaults the preset implies, with the file name its errors should name */
  presetKernel?: { values: Record<string, unknown>; file: string };
}

/** `platform:` value: a preset name or an inline object. */
export function loadPlatform(node: YNode, file: string): LoadedPlatform {
  const cx: ValidateCtx = { file, refs: null };
  const pos = posAt(cx, node.line, node.col);
  if (node.kind === 'map') return { platform: loadPlatformObject(node, cx, 'inline', pos) };
  const nameNode = expectScalar(node, 'platform', cx, 'a preset name or an inline platform { memory, iommus, devices }');
  const name = nameNode.text;
  const preset = getPreset(name);
  if (!preset) fail(cx, nameNode, unknownName('platform preset', name, presetNames()));
  const presetFile = `preset:${name}`;
  const tree = parseTree(preset.yaml, presetFile).root;
  const pcx: ValidateCtx = { file: presetFile, refs: null };
  if (!tree) throw new ScenarioError({ file: presetFile, line: 1, col: 1 }, `preset '${name}' is empty`);
  const map = expectMap(tree, `preset ${name}`, pcx);
  const platform = loadPlatformObject(map, pcx, name, pos);
  return { platform, presetKernel: preset.kernel ? { values: preset.kernel, file: presetFile } : undefined };
}

function loadPlatformObject(map: YMap, cx: ValidateCtx, name: string, pos: SourcePos): PlatformSpec {
  let memory: MemorySpec = { ...DEFAULT_MEMORY };
  let iommus: IommuSpec[] = [];
  let devicesNode: YNode | undefined;
  for (const e of map.entries) {
    if (e.key === 'memory') memory = loadMemory(e.value, cx);
    else if (e.key === 'iommus') iommus = loadIommus(e.value, cx);
    else if (e.key === 'devices') devicesNode = e.value;
    else unknownKey(cx, e, PLATFORM_KEYS, ' in platform');
  }
  const devices: DeviceSpec[] = [];
  if (devicesNode) addDevices(devicesNode, cx, iommus, devices);
  return { name, memory, iommus, devices, pos };
}

function loadMemory(node: YNode, cx: ValidateCtx): MemorySpec {
  if (isNullScalar(node)) return { ...DEFAULT_MEMORY };
  const map = expectMap(node, 'platform memory', cx);
  const v = validateObject(map, MEMORY_FIELDS, { kind: 'key', owner: ' in memory', prefix: 'memory ' }, cx);
  return { base: (v.base as number | undefined) ?? DEFAULT_MEMORY.base, size: (v.size as number | undefined) ?? DEFAULT_MEMORY.size };
}

function listOf(node: YNode, label: string, cx: ValidateCtx): YNode[] {
  if (isNullScalar(node)) return [];
  if (node.kind !== 'seq') fail(cx, node, `${label}: expected a list (- entries or [...])`);
  return (node as YSeq).items;
}

function entry(map: YMap, key: string): YEntry | undefined {
  return map.entries.find(e => e.key === key);
}

function loadIommus(node: YNode, cx: ValidateCtx): IommuSpec[] {
  const out: IommuSpec[] = [];
  const seen = new Map<string, IommuSpec>();
  for (const item of listOf(node, 'iommus', cx)) {
    const map = expectMap(item, 'iommus entry', cx);
    const nameEntry = entry(map, 'name');
    const modelEntry = entry(map, 'model');
    if (!nameEntry) fail(cx, map, `missing required key 'name' in IOMMU entry`);
    const name = expectScalar(nameEntry.value, 'IOMMU name', cx, 'a name').text;
    if (name === '') fail(cx, nameEntry.value, 'IOMMU name: expected a name, got nothing');
    const first = seen.get(name);
    if (first) fail(cx, nameEntry.value, `duplicate IOMMU '${name}' (first defined at ${where(first.pos)})`);
    if (!modelEntry) fail(cx, map, `missing required key 'model' in IOMMU '${name}'; ${oneOf(modelNames())}`);
    const modelNode = expectScalar(modelEntry.value, `IOMMU ${name} model`, cx, 'a model name');
    const schema = getModelParams(modelNode.text);
    if (!schema) fail(cx, modelNode, unknownName('IOMMU model', modelNode.text, modelNames()));
    const params = validateObject(map, schema.params, { kind: 'parameter', owner: ` for IOMMU model ${schema.model}`, prefix: `IOMMU ${name} ` }, cx,
      key => key === 'name' || key === 'model', undefined, ['name', 'model']);
    const spec: IommuSpec = { name, model: schema.model, params, pos: posAt(cx, map.line, map.col) };
    seen.set(name, spec);
    out.push(spec);
  }
  return out;
}

function where(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.col}`;
}

/** Validate a `devices:` list and append it to `devices` (names unique across the list, IOMMUs known). */
export function addDevices(node: YNode, cx: ValidateCtx, iommus: readonly IommuSpec[], devices: DeviceSpec[]): void {
  const iommuNames = iommus.map(i => i.name);
  for (const item of listOf(node, 'devices', cx)) {
    const map = expectMap(item, 'devices entry', cx);
    let paramsNode: YNode | undefined;
    const nameEntry = entry(map, 'name');
    const label = nameEntry?.value.kind === 'scalar' ? `device ${nameEntry.value.text}` : 'device';
    const v = validateObject(map, DEVICE_FIELDS, { kind: 'key', owner: ` in ${label}`, prefix: `${label} ` }, cx,
      (key, value) => {
        if (key !== 'params') return false;
        paramsNode = value;
        return true;
      }, undefined, DEVICE_EXTRA_KEYS);
    const name = v.name as string;
    const nameNode = nameEntry!.value;
    const mask = v.dma_mask as number | undefined;
    if (mask !== undefined && (mask < 1 || mask > 64)) {
      fail(cx, entry(map, 'dma_mask')!.value, `${label} dma_mask: ${mask} is out of range (1..64): it is the number of address bits, e.g. 32 for DMA_BIT_MASK(32)`);
    }
    if (name === '') fail(cx, nameNode, 'device name: expected a name, got nothing');
    const first = devices.find(d => d.name === name);
    if (first) fail(cx, nameNode, `duplicate device '${name}' (first defined at ${where(first.pos)})`);
    const iommuEntry = entry(map, 'iommu');
    const iommusEntry = entry(map, 'iommus');
    if (v.iommu !== undefined && v.iommus !== undefined) {
      failKey(cx, iommusEntry!.keyLine, iommusEntry!.keyCol, `${label}: give either 'iommu' or 'iommus', not both`);
    }
    const behind = v.iommus !== undefined ? (v.iommus as string[]) : v.iommu !== undefined ? [v.iommu as string] : [];
    behind.forEach((iommuName, k) => {
      if (iommuNames.includes(iommuName)) return;
      const at = iommusEntry && v.iommus !== undefined ? (iommusEntry.value as YSeq).items[k] : iommuEntry!.value;
      const known = iommuNames.length ? unknownName('IOMMU', iommuName, iommuNames) : `unknown IOMMU '${iommuName}': the platform has no IOMMUs`;
      fail(cx, at, `${label}: ${known}`);
    });
    const spec: DeviceSpec = {
      name,
      iommu: behind.length ? behind[0] : null,
      streams: (v.streams as number[] | undefined) ?? [],
      bus: (v.bus as 'platform' | 'pci' | undefined) ?? 'platform',
      untrusted: (v.untrusted as boolean | undefined) ?? false,
      coherent: (v.coherent as boolean | undefined) ?? true,
      dma_mask: mask ?? 64,
      params: paramsNode && !isNullScalar(paramsNode)
        ? freeValue(expectMap(paramsNode, `${label} params`, cx), `${label} params`, cx) as Record<string, ArgValue>
        : {},
      pos: posAt(cx, map.line, map.col),
    };
    if (v.iommus !== undefined) spec.iommus = behind;
    if (v.group !== undefined) spec.group = v.group as string;
    devices.push(spec);
  }
}

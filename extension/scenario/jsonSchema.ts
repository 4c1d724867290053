// A JSON Schema (draft-07) for scenario files, generated from the op schemas the loader validates with, the
// model parameter schemas and the preset names: completion and hover docs in *.iommu.json (and *.iommu.yaml
// with the Red Hat YAML extension). The loader stays the authority; the schema only helps while typing.
// Pure: no vscode. scripts/gen-schema.mjs writes it to dist/scenario.schema.json.
import { allOpNames, ArgField, ArgType, getOpSchema } from '../../simulator/scenario/opspec';
import { getModelParams, modelNames, presetNames } from '../../simulator/platform/registry';

export type JsonSchema = Record<string, unknown>;

const REF_PATTERN = '^\\$[A-Za-z_]';
/** integers, 0x-hex, sizes with a binary suffix, or a $reference expression */
const U64_STRING = '^(0[xX][0-9a-fA-F]+|[0-9]+[KMGTkmgt]?|\\$[A-Za-z_].*)$';

export function argTypeSchema(t: ArgType, field?: ArgField): JsonSchema {
  const doc = field?.doc ? { description: field.doc } : {};
  if (typeof t === 'string') {
    switch (t) {
      case 'u64':
        return { ...doc, anyOf: [{ type: 'integer', minimum: field?.min ?? 0, ...(field?.max !== undefined ? { maximum: field.max } : {}) },
          { type: 'string', pattern: U64_STRING }] };
      case 'int':
        return { ...doc, anyOf: [{ type: 'integer', ...(field?.signed ? {} : { minimum: 0 }),
          ...(field?.min !== undefined ? { minimum: field.min } : {}), ...(field?.max !== undefined ? { maximum: field.max } : {}) },
        { type: 'string', pattern: REF_PATTERN }] };
      case 'bool': return { ...doc, type: 'boolean' };
      case 'string':
      case 'name': return { ...doc, type: 'string' };
      case 'handle': return { ...doc, type: 'string', description: field?.doc ?? 'a result of an earlier step ($name) or an id such as "d1"' };
    }
  }
  if ('enum' in t) return { ...doc, enum: [...t.enum] };
  if ('list' in t) return { ...doc, type: 'array', items: argTypeSchema(t.list), ...(t.max !== undefined ? { maxItems: t.max } : {}) };
  if ('object' in t) return { ...doc, ...objectSchema(t.object) };
  return { ...doc, anyOf: t.oneOf.map(x => argTypeSchema(x)) };
}

function objectSchema(fields: Record<string, ArgField>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [k, f] of Object.entries(fields)) properties[k] = argTypeSchema(f.type, f);
  const required = Object.entries(fields).filter(([, f]) => f.required).map(([k]) => k);
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

const AS: JsonSchema = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'name the result: later steps use $NAME or $NAME.field' };
const SITE: JsonSchema = {
  type: 'string', pattern: '^[A-Za-z0-9_./+-]+\\.[ch]:(?:[A-Za-z_][A-Za-z0-9_]*(?::[1-9][0-9]*)?|[1-9][0-9]*)$',
  description: 'the driver source this step stands for: FILE.c:FUNCTION, FILE.c:LINE or FILE.c:FUNCTION:LINE',
};
const EXPECT: JsonSchema = {
  type: 'object', additionalProperties: false, description: 'what this step must do; a failed expectation fails the run',
  properties: {
    result: { description: 'a value, "ok", an errno such as "-EINVAL", "oops" or null', type: ['integer', 'string', 'null'] },
    faults: { type: 'integer', minimum: 0, description: 'IOMMU faults raised by this step' },
    exposed: { ...argTypeSchema('u64'), description: 'bytes made device-visible beyond what was asked' },
    finding: { description: 'finding code(s) this step raises', anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  },
};

export function stepSchema(): JsonSchema {
  const ops = allOpNames();
  const properties: Record<string, JsonSchema> = {};
  for (const name of ops) {
    const s = getOpSchema(name)!;
    const args = 'scalar' in s.args ? argTypeSchema(s.args.scalar.type, s.args.scalar)
      : objectSchema(s.args.object);
    properties[name] = { ...args, description: s.doc, markdownDescription: `\`${name}\` — ${s.doc}` };
  }
  return {
    type: 'object',
    properties: { ...properties, as: AS, site: SITE, expect: EXPECT },
    additionalProperties: false,
    // exactly one op key per step
    oneOf: ops.map(op => ({ required: [op] })),
  };
}

function deviceSchema(): JsonSchema {
  return {
    type: 'object', required: ['name'], additionalProperties: false,
    properties: {
      name: { type: 'string', description: 'device name (a PCI address such as "00:01.0" is fine)' },
      iommu: { type: ['string', 'null'], description: 'IOMMU in front of the device; null for direct DMA' },
      iommus: { type: 'array', items: { type: 'string' }, description: 'devices behind several IOMMUs (dual DARTs)' },
      streams: { type: 'array', items: argTypeSchema('u64'), description: 'stream IDs / SIDs' },
      bus: { enum: ['platform', 'pci'] },
      untrusted: { type: 'boolean', description: 'external device: unaligned DMA bounces through swiotlb' },
      coherent: { type: 'boolean', description: 'DMA is cache-coherent' },
      dma_mask: { type: 'integer', minimum: 1, maximum: 64, description: 'DMA mask in bits' },
      group: { type: 'string', description: 'explicit IOMMU group name; derived otherwise' },
      params: { type: 'object', description: 'model- or driver-specific extras' },
    },
  };
}

function iommuSchema(): JsonSchema {
  const models = modelNames();
  return {
    type: 'object', required: ['name', 'model'], additionalProperties: true,
    properties: { name: { type: 'string' }, model: models.length ? { enum: models } : { type: 'string' } },
    allOf: models.map(m => {
      const p = getModelParams(m)!;
      const props: Record<string, JsonSchema> = {};
      for (const [k, f] of Object.entries(p.params)) props[k] = argTypeSchema(f.type, f);
      return { if: { properties: { model: { const: m } } }, then: { description: p.doc, properties: props } };
    }),
  };
}

export function scenarioJsonSchema(): JsonSchema {
  const presets = presetNames();
  const pageSize = { description: 'CPU PAGE_SIZE', anyOf: [{ enum: ['4K', '16K', '64K'] }, { enum: [4096, 16384, 65536] }] };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://iommu-lens.invalid/scenario.schema.json',
    title: 'IOMMU Lens scenario',
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', description: 'shown in reports and titles' },
      description: { type: 'string', description: 'what the scenario shows (free text)' },
      platform: {
        description: 'a built-in preset, or an inline platform',
        anyOf: [
          presets.length ? { enum: presets } : { type: 'string' },
          { type: 'object', additionalProperties: false, properties: {
            memory: { type: 'object', additionalProperties: false, required: ['base', 'size'],
              properties: { base: argTypeSchema('u64', { type: 'u64', doc: 'first physical address of RAM' }),
                size: argTypeSchema('u64', { type: 'u64', doc: 'bytes of RAM', min: 1 }) } },
            iommus: { type: 'array', items: iommuSchema() },
            devices: { type: 'array', items: deviceSchema() },
          } },
        ],
      },
      kernel: {
        type: 'object', additionalProperties: false,
        properties: {
          page_size: pageSize,
          large_iommu_pages: { type: 'boolean', description: 'apply the unmerged granule > PAGE_SIZE series (default false = mainline)' },
          dma_strict: { type: 'boolean', description: 'false = lazy invalidation through flush queues (DMA_FQ)' },
          swiotlb: { type: 'boolean', description: 'bounce buffers available (default true)' },
          version: { type: 'string', description: 'kernel version where behaviour changed across releases: "4.19", "6.12" ...' },
          options: { type: 'object', description: 'simulator extensions' },
        },
      },
      devices: { type: 'array', items: deviceSchema(), description: 'extra devices, added to the platform' },
      steps: { type: 'array', items: stepSchema(), description: 'kernel API calls, run in order' },
    },
  };
}

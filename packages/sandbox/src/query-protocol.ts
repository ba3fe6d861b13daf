/**
 * The EC2 query protocol, server side, driven by the operation schemas `@aws-sdk/client-ec2` exports.
 *
 * Requests: the SDK's `QueryShapeSerializer` (ec2 settings: `flattenLists`, `capitalizeKeys`, keys from
 * the `ec2QueryName` trait) writes `Action=X&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=…`.
 * `readQueryInput` inverts that: the form becomes a tree on the `.` separators, and the operation's input
 * schema tells which tree key is which member and what type each leaf is. Only keys present in the form
 * are visited, so a request costs what it carries, not what the schema could hold.
 *
 * Responses: `XmlShapeSerializer` writes the output shape with the same schema (`xmlName` traits, `item`
 * list members), so the real client parses exactly what it would parse from AWS. EC2 names the root
 * `<XResponse>` and adds `<requestId>`; the serializer names it after the shape (`XResult`), so the root
 * is renamed here.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
 */
import * as ec2Model from '@aws-sdk/client-ec2';
import { XmlShapeSerializer } from '@aws-sdk/core/protocols';
import { NormalizedSchema } from '@smithy/core/schema';
import type { StaticOperationSchema } from '@smithy/types';
import { EC2_XMLNS } from './service.ts';

export interface QueryOperation {
  readonly name: string;
  readonly input: NormalizedSchema;
  readonly output: NormalizedSchema;
}

const operationCache = new WeakMap<object, Map<string, QueryOperation | null>>();

/**
 * The operation named `action` in an SDK client module (`import * as model from '@aws-sdk/client-sns'`,
 * whose operation schemas are exported as `X$`), or `undefined` when the model has none.
 */
export function modelOperation(
  model: Readonly<Record<string, unknown>>,
  action: string,
): QueryOperation | undefined {
  let cache = operationCache.get(model);
  if (cache === undefined) {
    cache = new Map();
    operationCache.set(model, cache);
  }
  let operation = cache.get(action);
  if (operation === undefined) {
    const schema = /^[A-Z][A-Za-z0-9]+$/.test(action) ? model[`${action}$`] : undefined;
    operation = isOperationSchema(schema)
      ? { name: action, input: NormalizedSchema.of(schema[4]), output: NormalizedSchema.of(schema[5]) }
      : null;
    cache.set(action, operation);
  }
  return operation ?? undefined;
}

const ec2 = ec2Model as unknown as Record<string, unknown>;

/** The EC2 operation named `action`, or `undefined` when the SDK model has none. */
export function ec2Operation(action: string): QueryOperation | undefined {
  return modelOperation(ec2, action);
}

function isOperationSchema(value: unknown): value is StaticOperationSchema {
  return Array.isArray(value) && value[0] === 9 && value.length === 6;
}

/** A form body as a flat map, in order. `+` is a space (form encoding); the SDK itself writes `%20`. */
export function parseForm(body: string): Map<string, string> {
  const params = new Map<string, string>();
  if (body === '') {
    return params;
  }
  for (const pair of body.split('&')) {
    if (pair === '') {
      continue;
    }
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    params.set(decode(rawKey), decode(rawValue));
  }
  return params;
}

function decode(text: string): string {
  if (!/[%+]/.test(text)) {
    return text;
  }
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A node of the key tree: a leaf value, or children by key segment. */
type QueryNode = string | QueryTree;
interface QueryTree {
  [segment: string]: QueryNode;
}

export function toQueryTree(params: Map<string, string>): QueryTree {
  const root: QueryTree = Object.create(null);
  for (const [key, value] of params) {
    const segments = key.split('.');
    let node: QueryTree = root;
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i] as string;
      let next = node[segment];
      if (next === undefined || typeof next === 'string') {
        next = Object.create(null) as QueryTree;
        node[segment] = next;
      }
      node = next;
    }
    node[segments[segments.length - 1] as string] = value;
  }
  return root;
}

/**
 * Thrown when a value does not fit the member's type; the emulator answers with its code for it (EC2
 * `InvalidParameterValue`, STS `ValidationError`, SNS `InvalidParameter`).
 */
export class QueryInputError extends Error {
  override readonly name = 'QueryInputError';
}

/**
 * Reads the operation input from a query tree. Unknown keys are ignored (AWS answers
 * `UnknownParameter`; the SDK never sends one).
 */
export function readQueryInput(schema: NormalizedSchema, tree: QueryTree): Record<string, unknown> {
  return readStruct(schema, tree, '');
}

/** Struct member lookup by the query key the SDK writes (`ec2QueryName`, else capitalised xml/member name). */
const memberIndexes = new WeakMap<object, Map<string, [string, NormalizedSchema]>>();

function memberIndex(schema: NormalizedSchema): Map<string, [string, NormalizedSchema]> {
  const identity = schema.getSchema() as object;
  let index = memberIndexes.get(identity);
  if (index === undefined) {
    index = new Map();
    for (const [memberName, member] of schema.structIterator()) {
      const traits = member.getMergedTraits();
      const base = String(traits.ec2QueryName ?? traits.xmlName ?? memberName);
      const key = traits.ec2QueryName ? base : base.charAt(0).toUpperCase() + base.slice(1);
      index.set(key, [memberName, member]);
    }
    memberIndexes.set(identity, index);
  }
  return index;
}

function readStruct(schema: NormalizedSchema, node: QueryNode, path: string): Record<string, unknown> {
  if (typeof node === 'string') {
    throw new QueryInputError(`${path || 'input'} must be a structure`);
  }
  const index = memberIndex(schema);
  const out: Record<string, unknown> = {};
  for (const key in node) {
    const entry = index.get(key);
    if (entry === undefined) {
      continue;
    }
    const [memberName, member] = entry;
    out[memberName] = readValue(member, node[key] as QueryNode, path ? `${path}.${key}` : key);
  }
  return out;
}

function readValue(schema: NormalizedSchema, node: QueryNode, path: string): unknown {
  if (schema.isListSchema()) {
    if (typeof node === 'string') {
      // `Key=` with an empty value is how the query protocol writes an empty list.
      return node === '' ? [] : [readValue(schema.getValueSchema(), node, `${path}.1`)];
    }
    const member = schema.getValueSchema();
    return Object.keys(node)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => readValue(member, node[k] as QueryNode, `${path}.${k}`));
  }
  if (schema.isMapSchema()) {
    if (typeof node === 'string') {
      throw new QueryInputError(`${path} must be a map`);
    }
    const result: Record<string, unknown> = {};
    const value = schema.getValueSchema();
    for (const k of Object.keys(node)) {
      const entry = node[k];
      if (typeof entry === 'object' && typeof entry.key === 'string' && entry.value !== undefined) {
        result[entry.key] = readValue(value, entry.value, `${path}.${k}.value`);
      }
    }
    return result;
  }
  if (schema.isStructSchema()) {
    return readStruct(schema, node, path);
  }
  if (typeof node !== 'string') {
    throw new QueryInputError(`${path} must be a single value`);
  }
  return readScalar(schema, node, path);
}

/** A leaf value of either query dialect: booleans, numbers and timestamps parsed, anything else as sent. */
export function readScalar(schema: NormalizedSchema, node: string, path: string): unknown {
  if (schema.isBooleanSchema()) {
    if (node !== 'true' && node !== 'false') {
      throw new QueryInputError(`${path} must be true or false, got "${node}"`);
    }
    return node === 'true';
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema() || schema.isBigDecimalSchema()) {
    const number = Number(node);
    if (node.trim() === '' || !Number.isFinite(number)) {
      throw new QueryInputError(`${path} must be a number, got "${node}"`);
    }
    return number;
  }
  if (schema.isTimestampSchema()) {
    const date = new Date(/^\d+(\.\d+)?$/.test(node) ? Number(node) * 1000 : node);
    if (Number.isNaN(date.getTime())) {
      throw new QueryInputError(`${path} must be a timestamp, got "${node}"`);
    }
    return date;
  }
  return node;
}

// One serializer for the process: `write` + `flush` are synchronous, so calls never interleave.
const serializer = new XmlShapeSerializer({
  timestampFormat: { useTrait: true, default: 5 },
  httpBindings: false,
  xmlNamespace: EC2_XMLNS,
  serviceNamespace: 'com.amazonaws.ec2',
});

/** Writes an EC2 success response body for `operation` with `output` (an object of the output shape). */
export function writeEc2Response(operation: QueryOperation, output: object, requestId: string): string {
  if (operation.output.isUnitSchema()) {
    // Actions without an output shape (ModifyInstanceAttribute, CreateTags…) answer `<return>true</return>`.
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation.name}Response xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId><return>true</return></${operation.name}Response>`;
  }
  const resultName = operation.output.getName() ?? `${operation.name}Result`;
  const responseName = `${operation.name}Response`;
  serializer.write(operation.output, output);
  const xml = serializer.flush() as string;
  const openEnd = xml.indexOf('>');
  if (!xml.startsWith(`<${resultName}`) || openEnd < 0) {
    throw new Error(`unexpected XML root for ${operation.name}: ${xml.slice(0, 80)}`);
  }
  const requestIdXml = `<requestId>${requestId}</requestId>`;
  const attributes = xml.slice(resultName.length + 1, openEnd).replace(/\/$/, '');
  const selfClosing = xml[openEnd - 1] === '/';
  const inner = selfClosing ? '' : xml.slice(openEnd + 1, xml.length - (resultName.length + 3));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${responseName}${attributes}>${requestIdXml}${inner}</${responseName}>`;
}

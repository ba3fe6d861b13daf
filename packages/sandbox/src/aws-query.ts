/**
 * The awsQuery protocol (STS, SNS), server side, driven by the operation schemas the SDK clients export.
 *
 * Requests: the SDK's `QueryShapeSerializer` writes `Action=Publish&Version=2010-03-31&TopicArn=…` with
 * lists as `Tags.member.1.Key` (or `Name.1` when `xmlFlattened`) and maps as `Attributes.entry.1.key` /
 * `.value` (key and value names from `xmlName`, e.g. SNS `MessageAttributes.entry.1.Name`). `readAwsQueryInput`
 * inverts exactly that with the operation's input schema, so member names and types come from the model,
 * not from hand-written parsing.
 *
 * Responses: `XmlShapeSerializer` writes the output shape; awsQuery wraps it as
 * `<XResponse xmlns=…><XResult>…</XResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></XResponse>`,
 * which is what the SDK's `AwsQueryProtocol` unwraps. Errors use `renderError('query', …)` from service.ts:
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`, whose `Code` the SDK
 * maps to an exception class through each error's `awsQueryError` trait (SNS `NotFound` → `NotFoundException`).
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
import { XmlShapeSerializer } from '@aws-sdk/core/protocols';
import type { NormalizedSchema } from '@smithy/core/schema';
import {
  modelOperation,
  parseForm,
  QueryInputError,
  type QueryOperation,
  readScalar,
  toQueryTree,
} from './query-protocol.ts';
import { renderError, type SandboxRequest, type SandboxResponse, ServiceError } from './service.ts';

export type AwsQueryOperation = QueryOperation;

/** A service's awsQuery facts: its XML namespace, API version and the client module holding its schemas. */
export interface AwsQueryService {
  readonly xmlNamespace: string;
  readonly version: string;
  /** The SDK client module (`import * as model from '@aws-sdk/client-sns'`): operation schemas are `X$`. */
  readonly model: Readonly<Record<string, unknown>>;
}

/** An error the service answers with; `handle` renders it in the protocol's format. */
export class AwsQueryError extends ServiceError {
  override readonly name = 'AwsQueryError';
}

/** The operation named `action` in the service model, or `undefined`. */
export function awsQueryOperation(service: AwsQueryService, action: string): AwsQueryOperation | undefined {
  return modelOperation(service.model, action);
}

/** Form parameters of a query request: the body, plus the query string (a GET carries them there). */
export function queryParams(req: Pick<SandboxRequest, 'path' | 'body'>): Map<string, string> {
  const params = new Map<string, string>();
  const queryStart = req.path.indexOf('?');
  if (queryStart >= 0) {
    for (const [key, value] of parseForm(req.path.slice(queryStart + 1))) {
      if (!key.startsWith('X-Amz-')) {
        params.set(key, value);
      }
    }
  }
  for (const [key, value] of parseForm(req.body)) {
    params.set(key, value);
  }
  return params;
}

/** The `Action` a query request asks for, for the router's throttling and call log. */
export function queryActionOf(req: SandboxRequest): string {
  return queryParams(req).get('Action') ?? 'Unknown';
}

type QueryNode = string | { [segment: string]: QueryNode };

/** Reads an operation input from the form parameters (`Action` and `Version` excluded). */
export function readAwsQueryInput(
  schema: NormalizedSchema,
  params: Map<string, string>,
): Record<string, unknown> {
  const members = new Map(params);
  members.delete('Action');
  members.delete('Version');
  const tree = toQueryTree(members) as QueryNode;
  return schema.isUnitSchema() ? {} : readStruct(schema, tree, '');
}

function readStruct(schema: NormalizedSchema, node: QueryNode, path: string): Record<string, unknown> {
  if (typeof node === 'string') {
    throw new QueryInputError(`${path || 'input'} must be a structure`);
  }
  const out: Record<string, unknown> = {};
  for (const [memberName, member] of schema.structIterator()) {
    const key = member.getMergedTraits().xmlName ?? memberName;
    const child = node[key];
    if (child !== undefined) {
      out[memberName] = readValue(member, child, path ? `${path}.${key}` : key);
    }
  }
  return out;
}

function numbered(node: { [segment: string]: QueryNode }): QueryNode[] {
  return Object.keys(node)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => node[k] as QueryNode);
}

function readValue(schema: NormalizedSchema, node: QueryNode, path: string): unknown {
  const traits = schema.getMergedTraits();
  if (schema.isListSchema()) {
    if (typeof node === 'string') {
      // `Key=` with no value is how the protocol writes an empty list.
      return [];
    }
    const member = schema.getValueSchema();
    const items = traits.xmlFlattened ? node : node[member.getMergedTraits().xmlName ?? 'member'];
    if (items === undefined || typeof items === 'string') {
      return [];
    }
    return numbered(items).map((item, i) => readValue(member, item, `${path}.member.${i + 1}`));
  }
  if (schema.isMapSchema()) {
    if (typeof node === 'string') {
      return {};
    }
    const keyName = schema.getKeySchema().getMergedTraits().xmlName ?? 'key';
    const valueSchema = schema.getValueSchema();
    const valueName = valueSchema.getMergedTraits().xmlName ?? 'value';
    const entries = traits.xmlFlattened ? node : node.entry;
    const result: Record<string, unknown> = {};
    if (entries === undefined || typeof entries === 'string') {
      return result;
    }
    for (const entry of numbered(entries)) {
      if (typeof entry === 'object' && typeof entry[keyName] === 'string' && entry[valueName] !== undefined) {
        result[entry[keyName]] = readValue(valueSchema, entry[valueName], `${path}.${entry[keyName]}`);
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
  if (schema.isBlobSchema()) {
    return new Uint8Array(Buffer.from(node, 'base64'));
  }
  return readScalar(schema, node, path);
}

const serializers = new Map<string, XmlShapeSerializer>();

function serializerFor(xmlNamespace: string): XmlShapeSerializer {
  let serializer = serializers.get(xmlNamespace);
  if (serializer === undefined) {
    serializer = new XmlShapeSerializer({
      timestampFormat: { useTrait: true, default: 5 },
      httpBindings: false,
      xmlNamespace,
      serviceNamespace: '',
    });
    serializers.set(xmlNamespace, serializer);
  }
  return serializer;
}

/** A success response: the output shape inside `<XResult>`, inside `<XResponse>`. */
export function awsQueryResponse(
  service: AwsQueryService,
  operation: AwsQueryOperation,
  output: object,
  requestId: string,
): SandboxResponse {
  let inner = '';
  if (!operation.output.isUnitSchema()) {
    // `write` + `flush` are synchronous, so one serializer per namespace never interleaves.
    const serializer = serializerFor(service.xmlNamespace);
    serializer.write(operation.output, output);
    const xml = serializer.flush() as string;
    const openEnd = xml.indexOf('>');
    inner = xml[openEnd - 1] === '/' ? '' : xml.slice(openEnd + 1, xml.lastIndexOf('</'));
  }
  const name = operation.name;
  const result = operation.output.isUnitSchema() ? '' : `<${name}Result>${inner}</${name}Result>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<?xml version="1.0" encoding="UTF-8"?>\n<${name}Response xmlns="${service.xmlNamespace}">${result}` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${name}Response>`,
    call: { action: name },
  };
}

export function awsQueryErrorResponse(
  error: AwsQueryError,
  requestId: string,
  action?: string,
): SandboxResponse {
  const response = renderError('query', error, requestId);
  return action === undefined ? response : { ...response, call: { action, errorCode: error.code } };
}

/**
 * The shared request loop: find the operation, read its input, run `run`, render the result or the error.
 * `invalidValueCode` is what the service answers when a value does not parse (STS `ValidationError`,
 * SNS `InvalidParameter`).
 */
export async function serveAwsQuery(
  service: AwsQueryService,
  req: SandboxRequest,
  invalidValueCode: string,
  run: (operation: AwsQueryOperation, input: Record<string, unknown>) => Promise<object> | object,
): Promise<SandboxResponse> {
  const requestId = crypto.randomUUID();
  const params = queryParams(req);
  const action = params.get('Action');
  try {
    if (action === undefined || action === '') {
      throw new AwsQueryError('MissingAction', 'Missing Action');
    }
    const operation = awsQueryOperation(service, action);
    if (operation === undefined) {
      throw new AwsQueryError(
        'InvalidAction',
        `Could not find operation ${action} for version ${service.version}`,
      );
    }
    let input: Record<string, unknown>;
    try {
      input = readAwsQueryInput(operation.input, params);
    } catch (error) {
      if (error instanceof QueryInputError) {
        throw new AwsQueryError(invalidValueCode, error.message);
      }
      throw error;
    }
    const output = await run(operation, input);
    return awsQueryResponse(service, operation, output, requestId);
  } catch (error) {
    if (error instanceof AwsQueryError) {
      return awsQueryErrorResponse(error, requestId, action);
    }
    throw error;
  }
}

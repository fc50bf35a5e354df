import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import openapiDocument from '../../src/web/openapi.json';

/** The repo's OpenAPI document (src/web/openapi.json), as tests read it. */
export const OPENAPI = openapiDocument as unknown as {
  paths: Record<string, Record<string, { responses: Record<string, DocumentedResponse> }>>;
  components: { headers?: Record<string, DocumentedHeader> };
};

interface DocumentedHeader {
  $ref?: string;
  required?: boolean;
  schema?: unknown;
}

interface DocumentedResponse {
  content?: Record<string, { schema: unknown }>;
  headers?: Record<string, DocumentedHeader>;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/**
 * Every operation the web's main port serves, as `METHOD /path/{param}`. A path with servers of its own
 * (`GET /metrics`, on METRICS_PORT) is served elsewhere: {@link operationsServedElsewhere}.
 */
export function documentedOperations(): string[] {
  return operationsOf(([, item]) => !('servers' in item));
}

/** The operations documented on a port of their own (their path item has `servers`). */
export function operationsServedElsewhere(): string[] {
  return operationsOf(([, item]) => 'servers' in item);
}

function operationsOf(filter: (entry: [string, Record<string, unknown>]) => boolean): string[] {
  return Object.entries(OPENAPI.paths).filter(filter).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => HTTP_METHODS.has(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/** `/api/jobs/:id` as OpenAPI writes it: `/api/jobs/{id}`. */
export function openapiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

// OpenAPI 3.1 schemas are JSON Schema 2020-12: ajv's 2020 build validates them. The whole document is
// added once so that `$ref: #/components/schemas/...` resolves; strict is off for the document's
// non-schema members (openapi, info, paths...).
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(openapiDocument, 'openapi.json');

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function templateFor(path: string): string | undefined {
  const bare = path.split('?')[0]!;
  return Object.keys(OPENAPI.paths).find((template) =>
    new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
  );
}

/**
 * Problems with an answer as the document describes it: an undocumented path, method or status, a
 * content type it does not list, or a body its schema refuses. Empty when the answer is as documented.
 */
export async function openapiViolations(method: string, path: string, res: Response): Promise<string[]> {
  const template = templateFor(path);
  if (!template) return [`${method} ${path}: no such path in the document`];
  const operation = OPENAPI.paths[template]![method.toLowerCase()];
  // Another method on a documented path: the document's info says it answers 405 with a problem.
  if (!operation && res.status === 405) return problemViolations(`${method} ${template} 405`, res);
  if (!operation) return [`${method} ${template}: no such operation in the document`];
  const status = String(res.status);
  const response = operation.responses[status] ?? operation.responses.default;
  if (!response) return [`${method} ${template}: status ${status} is not documented`];
  const key = operation.responses[status] ? status : 'default';
  const headers = headerViolations(`${method} ${template} ${status}`, pointer('paths', template, method.toLowerCase(), 'responses', key), response, res);
  if (headers.length) return headers;
  const text = await res.clone().text();
  if (!response.content) return text === '' ? [] : [`${method} ${template} ${status}: documented without a body, answered ${text.slice(0, 100)}`];
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (!response.content[contentType]) return [`${method} ${template} ${status}: content type ${contentType} is not documented`];
  const validate = ajv.getSchema(`openapi.json#/${pointer('paths', template, method.toLowerCase(), 'responses', key, 'content', contentType, 'schema')}`);
  if (!validate) return [`${method} ${template} ${status}: no schema`];
  // Text bodies (the Prometheus exposition) are validated as one string.
  if (validate(contentType.endsWith('json') ? JSON.parse(text) : text)) return [];
  return (validate.errors ?? []).map((e) => `${method} ${template} ${status}: ${e.instancePath || '(body)'} ${e.message ?? ''}`);
}

/** A required header the answer lacks, or a header whose value its schema refuses. */
function headerViolations(what: string, responsePointer: string, response: DocumentedResponse, res: Response): string[] {
  return Object.entries(response.headers ?? {}).flatMap(([name, documented]) => {
    const local = documented.$ref?.replace(/^#\/components\/headers\//, '');
    const header = local === undefined ? documented : OPENAPI.components.headers?.[local];
    if (!header) return [`${what}: header ${name} refers to ${documented.$ref ?? ''}, which is not in the document`];
    const value = res.headers.get(name);
    if (value === null) return header.required ? [`${what}: required header ${name} is missing`] : [];
    if (header.schema === undefined) return [];
    const schemaPointer = local === undefined ? `${responsePointer}/headers/${pointer(name)}/schema` : `components/headers/${pointer(local)}/schema`;
    const validate = ajv.getSchema(`openapi.json#/${schemaPointer}`);
    if (!validate) return [`${what}: header ${name} has no schema`];
    return validate(value) ? [] : [`${what}: header ${name} (${value}) does not match its schema`];
  });
}

async function problemViolations(what: string, res: Response): Promise<string[]> {
  if (!(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) return [`${what}: not a problem document`];
  const validate = ajv.getSchema('openapi.json#/components/schemas/Problem')!;
  if (validate(JSON.parse(await res.clone().text()))) return [];
  return (validate.errors ?? []).map((e) => `${what}: ${e.instancePath || '(body)'} ${e.message ?? ''}`);
}

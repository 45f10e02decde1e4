import fc from 'fast-check';
import { percentEncode, RawRequest } from './raw-http';

interface Schema {
  type?: string;
  $ref?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  format?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export type Role = 'tenant' | 'admin' | 'metrics' | 'none';

/** One documented operation. */
export interface Route {
  method: string;
  /** as documented, e.g. `/v1/subscriptions/{id}` */
  path: string;
  role: Role;
  operation: Operation;
}

/** What a well-formed request would carry, so that some generated requests get past auth and lookups. */
export interface Known {
  tokens: Record<Exclude<Role, 'none'>, string>;
  /** ids and sids that exist, for path parameters */
  ids: string[];
  /** a receiver that answers 2xx, for callback URLs */
  callbackUrl: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'];

export function routesOf(document: OpenApiDocument): Route[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => {
        const scheme = Object.keys(operation.security?.[0] ?? {})[0];
        const role: Role =
          scheme === 'admin' || scheme === 'tenant' || scheme === 'metrics' ? scheme : 'none';
        return { method: method.toUpperCase(), path, role, operation };
      }),
  );
}

/** Strings that have broken parsers, queries and templates before. */
const HOSTILE = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\ud83d',
  '\u202eevil',
  '\ufeff',
  '\uffff',
  "' OR '1'='1",
  "'; DROP TABLE tasks; --",
  '" OR ""="',
  '$(reboot)',
  '`id`',
  '../../../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '%',
  '%zz',
  '{{7*7}}',
  '${7*7}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '-0',
  '99999999999999999999999999',
  'http://169.254.169.254/latest/meta-data/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'BT|7aa93d45-0000',
  ' ',
  '',
];

const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((unit) => String.fromCharCode(unit));

/** Any text a client might send on purpose or by accident. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), loneSurrogate, fc.string({ maxLength: 10 }))
      .map((parts) => parts.join('')),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', '🦄', '\u0000', 'é'), fc.integer({ min: 257, max: 70_000 }))
      .map(([unit, count]) => unit.repeat(count)),
  },
);

/** A value of any JSON type, mostly hostile. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -1, 0, 0.5),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...HOSTILE), { maxLength: 600 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Printable ASCII only: header values cannot carry more. */
const headerText = fc
  .string({ unit: 'binary-ascii', maxLength: 80 })
  .map((text) => text.replace(/[^\x20-\x7e]/g, ''));

function resolve(schema: Schema | undefined, document: OpenApiDocument): Schema {
  if (schema?.$ref) {
    const name = schema.$ref.split('/').pop() as string;
    return resolve(document.components?.schemas?.[name], document);
  }
  if (schema?.allOf?.length) return resolve(schema.allOf[0], document);
  return schema ?? {};
}

/** A value the schema allows, where a plain reading of it can tell. */
function validValue(
  name: string,
  schema: Schema | undefined,
  document: OpenApiDocument,
  known: Known,
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolve(schema, document);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  if (/url$/i.test(name)) return fc.constant(known.callbackUrl);
  if (name === 'sid' || name === 'id') return fc.constantFrom(...known.ids);
  switch (s.type) {
    case 'integer':
      return fc.integer({ min: s.minimum ?? 1, max: Math.min(s.maximum ?? 100, 100) });
    case 'number':
      return fc.double({ min: s.minimum ?? 0, max: s.maximum ?? 100, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(name, s.items, document, known, depth + 1), { maxLength: 3 });
    case 'object':
      if (!s.properties || depth > 2) return fc.constant({});
      return objectOf(s, document, known, depth + 1);
    default:
      return fc.string({ minLength: 1, maxLength: Math.min(s.maxLength ?? 20, 20) });
  }
}

function objectOf(
  schema: Schema,
  document: OpenApiDocument,
  known: Known,
  depth: number,
): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties))
    model[name] = validValue(name, property, document, known, depth);
  return fc.record(model, { requiredKeys: schema.required ?? [] });
}

/** The body: well formed, one field spoiled, extra fields, any JSON, or bytes that are not JSON at all. */
function bodyOf(
  route: Route,
  document: OpenApiDocument,
  known: Known,
): fc.Arbitrary<Buffer | undefined> {
  const schema = resolve(
    route.operation.requestBody?.content?.['application/json']?.schema,
    document,
  );
  const json = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> =>
    arbitrary.map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'));
  const wellFormed = schema.properties ? objectOf(schema, document, known, 0) : fc.constant({});
  const names = Object.keys(schema.properties ?? {});
  const spoiled =
    names.length === 0
      ? wellFormed
      : fc
          .tuple(wellFormed, fc.constantFrom(...names), hostileValue)
          .map(([body, name, value]) => ({ ...body, [name]: value }));
  const raw: fc.Arbitrary<Buffer> = fc.oneof(
    fc.constantFrom(
      Buffer.from('{"sid": "a'),
      Buffer.from('not json'),
      Buffer.from([0x7b, 0x22, 0x73, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      Buffer.from('{"sid":"\\u0000"}'),
      Buffer.from('{"sid":"\\ud800"}'),
      Buffer.from('['.repeat(5000) + ']'.repeat(5000)),
      Buffer.from('{"__proto__": {"admin": true}}'),
      Buffer.alloc(0),
    ),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  );
  return fc.oneof(
    { weight: 3, arbitrary: json(wellFormed) },
    { weight: 4, arbitrary: json(spoiled) },
    {
      weight: 1,
      arbitrary: json(
        fc.tuple(wellFormed, hostileString, hostileValue).map(([b, k, v]) => ({ ...b, [k]: v })),
      ),
    },
    { weight: 1, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 2, arbitrary: raw },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function authOf(route: Route, known: Known): fc.Arbitrary<string | undefined> {
  const own = route.role === 'none' ? known.tokens.tenant : known.tokens[route.role];
  const other = route.role === 'admin' ? known.tokens.tenant : known.tokens.admin;
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${own}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${other}`) },
    { weight: 1, arbitrary: headerText.map((text) => `Bearer ${text}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('Basic YWRtaW46YWRtaW4=', 'Bearer', 'bearer  x', `${own}`),
    },
  );
}

function pathOf(route: Route, known: Known): fc.Arbitrary<string> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
  const value = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...known.ids) },
    { weight: 5, arbitrary: hostileString },
  );
  return fc.tuple(...names.map(() => value)).map((values) => {
    let path = route.path;
    names.forEach((name, i) => (path = path.replace(`{${name}}`, percentEncode(values[i] || 'x'))));
    return path;
  });
}

function queryOf(route: Route, document: OpenApiDocument, known: Known): fc.Arbitrary<string> {
  const parameters = (route.operation.parameters ?? []).filter((p) => p.in === 'query');
  const pair = (name: string, schema: Schema | undefined): fc.Arbitrary<string | null> =>
    fc.oneof(
      fc.constant(null),
      validValue(name, schema, document, known).map((v) => `${name}=${percentEncode(String(v))}`),
      hostileValue.map(
        (v) => `${name}=${percentEncode(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`,
      ),
    );
  const pairs = [
    ...parameters.map((p) => pair(p.name, p.schema)),
    fc.oneof(
      fc.constant(null),
      fc
        .tuple(hostileString, hostileString)
        .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`),
    ),
  ];
  return fc.tuple(...pairs).map((values) => {
    const present = values.filter((v): v is string => v !== null);
    return present.length === 0 ? '' : `?${present.join('&')}`;
  });
}

/** Requests for one route, property-based: fast-check picks every part. */
export function requestsFor(
  route: Route,
  document: OpenApiDocument,
  known: Known,
): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') },
      ),
      path: pathOf(route, known),
      query: queryOf(route, document, known),
      auth: authOf(route, known),
      body:
        route.method === 'GET' || route.method === 'DELETE'
          ? fc.constant(undefined)
          : bodyOf(route, document, known),
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=latin1',
            'multipart/form-data; boundary=x',
          ),
        },
      ),
      idempotencyKey: fc.option(headerText, { freq: 5 }),
    })
    .map(({ method, path, query, auth, body, contentType, idempotencyKey }) => {
      const headers: Record<string, string> = {};
      if (auth !== undefined) headers.authorization = auth;
      if (body !== undefined) headers['content-type'] = contentType;
      if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
      return { method, path: path + query, headers, body };
    });
}

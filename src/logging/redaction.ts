/**
 * Paths pino blanks out of every log line: credentials in headers, and any
 * field that carries a UXC secret key, an API key, a webhook secret or a token.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'sk',
  'uxcSk',
  'apiKey',
  'secret',
  'webhookSecret',
  'encryptionKey',
  'adminToken',
  'password',
  'token',
];

export const REDACTED_PATHS = [
  // a field of the logged object itself, and one level down (`*.` alone matches only the latter)
  ...SECRET_FIELDS,
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.map((field) => `*.${field}`),
];

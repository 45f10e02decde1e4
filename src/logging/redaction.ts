/**
 * Paths pino blanks out of every log line: credentials in headers, and any
 * field that carries a UXC secret key, an API key, a webhook secret or a token.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
  '*.sk',
  '*.uxcSk',
  '*.apiKey',
  '*.secret',
  '*.webhookSecret',
  '*.encryptionKey',
  '*.adminToken',
  '*.password',
];

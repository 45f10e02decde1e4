import { errorBody, fieldOf } from './error-body';

describe('error bodies', () => {
  it.each([
    ['sid is required', 'sid'],
    ['sid must be a string', 'sid'],
    ['metadata.a: the key "__proto__" is not allowed', 'metadata.a'],
    ['metadata.note holds a NUL character or broken Unicode (a lone surrogate)', 'metadata.note'],
    ['property tenantId should not exist', 'tenantId'],
    ['callbackUrl points to 127.0.0.1, which is refused', 'callbackUrl'],
    ['callbackUrl host x could not be resolved', 'callbackUrl'],
    ['request body must be JSON', 'request'],
    ['the path holds a NUL character', 'request'],
    ['Failed to decode param', 'request'],
  ])('%j is about %s', (message, field) => {
    expect(fieldOf(message)).toBe(field);
  });

  it('joins several problems into one message and lists them with their fields', () => {
    expect(errorBody(400, ['sid is required', 'callbackUrl is required'])).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'sid is required; callbackUrl is required',
      errors: [
        { field: 'sid', message: 'sid is required' },
        { field: 'callbackUrl', message: 'callbackUrl is required' },
      ],
    });
    expect(errorBody(404, 'not found')).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'not found',
    });
  });
});

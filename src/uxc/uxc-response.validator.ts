import { UxcEnvelope, UxcTaskData } from './uxc-response';

export type ValidationResult<T> = { valid: true; value: T } | { valid: false; problem: string };

type FieldCheck = (value: unknown) => boolean;

const isString: FieldCheck = (v) => typeof v === 'string';
const isFiniteNumber: FieldCheck = (v) => typeof v === 'number' && Number.isFinite(v);
const isInteger: FieldCheck = (v) => Number.isInteger(v);
const isStringArray: FieldCheck = (v) => Array.isArray(v) && v.every((item) => isString(item));

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const TASK_FIELDS: Record<string, { check: FieldCheck; expected: string }> = {
  sid: { check: isString, expected: 'a string' },
  status: { check: isInteger, expected: 'an integer' },
  podIp: { check: isString, expected: 'a string' },
  podPort: { check: isString, expected: 'a string' },
  progress: { check: isFiniteNumber, expected: 'a number' },
  costTime: { check: isFiniteNumber, expected: 'a number' },
  message: { check: isString, expected: 'a string' },
  queueNum: { check: isFiniteNumber, expected: 'a number' },
  queueTotal: { check: isFiniteNumber, expected: 'a number' },
  outputResult: { check: isStringArray, expected: 'an array of strings' },
  photoParameters: { check: isPlainObject, expected: 'an object' },
};

/**
 * Checks the envelope only: `data` is validated separately because a business
 * error's `data` is anything (`{}` in the document's example).
 */
export function validateEnvelope(body: unknown): ValidationResult<UxcEnvelope<unknown>> {
  if (!isPlainObject(body)) return { valid: false, problem: 'the answer is not a JSON object' };
  if (!isInteger(body.errNo)) return { valid: false, problem: 'errNo is not an integer' };
  // errMsg is informational: its absence must not turn a success into a failure
  if (body.errMsg !== undefined && body.errMsg !== null && !isString(body.errMsg)) {
    return { valid: false, problem: 'errMsg is not a string' };
  }
  return {
    valid: true,
    value: {
      errNo: body.errNo as number,
      errMsg: (body.errMsg as string | null) ?? '',
      data: body.data,
    },
  };
}

/**
 * Validates a success answer's `data`. Unknown fields are kept as they came;
 * a documented field that is null is treated as absent, since a task that has
 * not reached a pod yet plausibly has no `podIp`, and that is not a broken answer.
 */
export function validateTaskData(data: unknown): ValidationResult<UxcTaskData> {
  if (!isPlainObject(data)) return { valid: false, problem: 'data is not a JSON object' };
  const value: UxcTaskData = {};
  for (const [key, field] of Object.entries(data)) {
    const rule = TASK_FIELDS[key];
    if (rule && field === null) continue;
    if (rule && !rule.check(field)) {
      return { valid: false, problem: `data.${key} is not ${rule.expected}` };
    }
    value[key] = field;
  }
  return { valid: true, value };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateEnvelope, validateTaskData } from './uxc-response.validator';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, '../../test/fixtures/uxc', name), 'utf8'));

describe('UXC response validation', () => {
  it('parses the success fixture to exactly its values', () => {
    const body = fixture('task-get.success.json') as { data: Record<string, unknown> };
    const envelope = validateEnvelope(body);
    expect(envelope).toEqual({ valid: true, value: body });
    if (!envelope.valid) throw new Error('unreachable');
    expect(envelope.value.errNo).toBe(0);
    expect(envelope.value.errMsg).toBe('succ');

    const data = validateTaskData(envelope.value.data);
    expect(data).toEqual({ valid: true, value: body.data });
    if (!data.valid) throw new Error('unreachable');
    expect(data.value).toMatchObject({
      sid: 'BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e',
      status: 1,
      podIp: '10.106.129.88',
      podPort: '8103',
      progress: 1,
      costTime: 66.59,
      message: 'ok',
      queueNum: 0,
      queueTotal: 0,
    });
    expect(data.value.outputResult).toEqual([
      'cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/9fb713ed-7ced-429c-9e53-70cdbc4a5feb.WEBP',
      'cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/2e76ea9b-b7f7-4587-8196-a4b1c641e9a9.WEBP',
    ]);
    expect(data.value.photoParameters?.info).toBe('ok');
    expect(Object.keys(data.value.photoParameters?.parameters as object)).toContain('2');
  });

  it('reads the error fixture as errNo 1000 with its message', () => {
    expect(validateEnvelope(fixture('task-get.error.json'))).toEqual({
      valid: true,
      value: { errNo: 1000, errMsg: '错误信息', data: {} },
    });
  });

  it('keeps fields it does not know and survives missing ones', () => {
    expect(validateTaskData({ status: 100, gpu: { model: 'L40S' } })).toEqual({
      valid: true,
      value: { status: 100, gpu: { model: 'L40S' } },
    });
    expect(validateTaskData({})).toEqual({ valid: true, value: {} });
  });

  it('treats a null documented field as absent', () => {
    expect(validateTaskData({ status: 100, podIp: null, podPort: null })).toEqual({
      valid: true,
      value: { status: 100 },
    });
  });

  it.each([
    [{ podPort: 8103 }, 'data.podPort is not a string'],
    [{ status: '1' }, 'data.status is not an integer'],
    [{ status: 1.5 }, 'data.status is not an integer'],
    [{ costTime: '66.59' }, 'data.costTime is not a number'],
    [{ progress: Number.NaN }, 'data.progress is not a number'],
    [{ outputResult: 'cos://x' }, 'data.outputResult is not an array of strings'],
    [{ outputResult: [1] }, 'data.outputResult is not an array of strings'],
    [{ photoParameters: [] }, 'data.photoParameters is not an object'],
    [{ sid: 7 }, 'data.sid is not a string'],
  ])('rejects data %j', (data, problem) => {
    expect(validateTaskData(data)).toEqual({ valid: false, problem });
  });

  it.each([
    [[], 'the answer is not a JSON object'],
    [null, 'the answer is not a JSON object'],
    [{ errMsg: 'succ', data: {} }, 'errNo is not an integer'],
    [{ errNo: '0', data: {} }, 'errNo is not an integer'],
    [{ errNo: 0, errMsg: 5, data: {} }, 'errMsg is not a string'],
  ])('rejects the envelope %j', (body, problem) => {
    expect(validateEnvelope(body)).toEqual({ valid: false, problem });
  });

  it('rejects a success whose data is not an object', () => {
    expect(validateTaskData([])).toEqual({ valid: false, problem: 'data is not a JSON object' });
    expect(validateTaskData(undefined)).toEqual({
      valid: false,
      problem: 'data is not a JSON object',
    });
  });
});

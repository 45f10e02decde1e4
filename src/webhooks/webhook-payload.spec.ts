import {
  buildWebhookPayload,
  buildWebhookTestPayload,
  serializeWebhookPayload,
  TaskEventPayloadInput,
  TaskEventRecipient,
  taskEventBodies,
} from './webhook-payload';

const succeeded: TaskEventPayloadInput = {
  type: 'task.succeeded',
  observedAt: new Date('2026-11-27T05:00:00.000Z'),
  subscriptionId: 'sub_1',
  sid: 'BT|7aa93d45-0000',
  sequence: 4,
  state: 'succeeded',
  previousState: 'running',
  status: 1,
  previousStatus: 200,
  progress: 1,
  queueNum: 0,
  queueTotal: 0,
  costTime: 66.59,
  message: 'ok',
  outputResult: ['cos://bucket/out.png'],
  metadata: { orderId: 'A-17' },
  photoParameters: { width: 1024 },
};

describe('buildWebhookPayload', () => {
  it('produces the contract body, field for field and in order', () => {
    const body = serializeWebhookPayload(buildWebhookPayload(succeeded));
    expect(body).toBe(
      JSON.stringify({
        type: 'task.succeeded',
        timestamp: '2026-11-27T05:00:00.000Z',
        data: {
          subscriptionId: 'sub_1',
          sid: 'BT|7aa93d45-0000',
          sequence: 4,
          state: 'succeeded',
          previousState: 'running',
          status: 1,
          previousStatus: 200,
          progress: 1,
          queueNum: 0,
          queueTotal: 0,
          costTime: 66.59,
          message: 'ok',
          outputResult: ['cos://bucket/out.png'],
          estimatedStartAt: null,
          estimatedFinishAt: null,
          estimateBasis: null,
          metadata: { orderId: 'A-17' },
        },
      }),
    );
  });

  it('carries the estimates of a queued task as ISO times, with their basis', () => {
    const basis = {
      tasks: 12,
      windowSeconds: 600,
      drainPerMinute: 6,
      finishedTasks: 9,
      runSeconds: 30,
    };
    const { data } = buildWebhookPayload({
      ...succeeded,
      state: 'queued',
      estimate: {
        estimatedStartAt: new Date('2026-11-27T05:01:40.000Z'),
        estimatedFinishAt: new Date('2026-11-27T05:02:10.000Z'),
        estimateBasis: basis,
      },
    });
    expect(data).toMatchObject({
      estimatedStartAt: '2026-11-27T05:01:40.000Z',
      estimatedFinishAt: '2026-11-27T05:02:10.000Z',
      estimateBasis: basis,
    });
  });

  it('adds photoParameters only when the subscription asked for them', () => {
    expect(buildWebhookPayload(succeeded).data).not.toHaveProperty('photoParameters');
    expect(
      buildWebhookPayload({ ...succeeded, includePhotoParameters: true }).data.photoParameters,
    ).toEqual({ width: 1024 });
    const { photoParameters: _omitted, ...withoutPhoto } = succeeded;
    const asked = buildWebhookPayload({ ...withoutPhoto, includePhotoParameters: true });
    expect(asked.data).toHaveProperty('photoParameters', null);
  });

  it('keeps unknown fields present as null, and absent metadata as {}', () => {
    const first = buildWebhookPayload({
      type: 'task.queued',
      observedAt: new Date('2026-11-27T04:59:00.000Z'),
      subscriptionId: 'sub_1',
      sid: 'BT|x',
      sequence: 1,
      state: 'queued',
      previousState: null,
      status: 100,
      previousStatus: null,
      progress: null,
      queueNum: null,
      queueTotal: null,
      costTime: null,
      message: null,
      outputResult: null,
    });
    expect(JSON.parse(serializeWebhookPayload(first))).toEqual({
      type: 'task.queued',
      timestamp: '2026-11-27T04:59:00.000Z',
      data: {
        subscriptionId: 'sub_1',
        sid: 'BT|x',
        sequence: 1,
        state: 'queued',
        previousState: null,
        status: 100,
        previousStatus: null,
        progress: null,
        queueNum: null,
        queueTotal: null,
        costTime: null,
        message: null,
        outputResult: null,
        estimatedStartAt: null,
        estimatedFinishAt: null,
        estimateBasis: null,
        metadata: {},
      },
    });
  });

  it('serialises the same input to the same bytes', () => {
    expect(serializeWebhookPayload(buildWebhookPayload(succeeded))).toBe(
      serializeWebhookPayload(buildWebhookPayload({ ...succeeded })),
    );
  });
});

describe('taskEventBodies', () => {
  const queued: TaskEventPayloadInput = {
    ...succeeded,
    type: 'task.queued',
    state: 'queued',
    previousState: null,
    previousStatus: null,
    message: 'line one\nline "two" \\ \u2028 \ud83d\ude00',
    outputResult: null,
    estimate: {
      estimatedStartAt: new Date('2026-11-27T05:01:40.000Z'),
      estimatedFinishAt: null,
      estimateBasis: {
        tasks: 3,
        windowSeconds: 600,
        drainPerMinute: null,
        finishedTasks: 0,
        runSeconds: null,
      },
    },
  };
  const recipients: TaskEventRecipient[] = [
    { subscriptionId: 'sub_1', metadata: { orderId: 'A-17', nested: { list: [1, 'x'] } } },
    { subscriptionId: 'sub_2', metadata: null },
    { subscriptionId: 'sub_3', includePhotoParameters: true, photoParameters: { width: 1024 } },
    { subscriptionId: 'sub_4', includePhotoParameters: true },
    { endpointId: 'ep_1', subscriptionId: 'sub_5', metadata: { team: 'render' } },
    { metadata: {} },
  ];

  it.each([succeeded, queued])(
    'writes, for every recipient, the bytes of the body built alone ($type)',
    (event) => {
      const {
        subscriptionId: _s,
        metadata: _m,
        includePhotoParameters: _i,
        photoParameters: _p,
        ...shared
      } = event;
      const bodyFor = taskEventBodies(shared);
      for (const recipient of recipients) {
        const alone = serializeWebhookPayload(buildWebhookPayload({ ...shared, ...recipient }));
        expect(bodyFor(recipient)).toBe(alone);
        expect(JSON.parse(bodyFor(recipient))).toEqual(JSON.parse(alone));
      }
    },
  );
});

describe('buildWebhookTestPayload', () => {
  it('is a webhook.test event naming the callback URL', () => {
    const payload = buildWebhookTestPayload({
      callbackUrl: 'https://hooks.example.com/uxc',
      now: new Date('2026-11-27T05:00:00.000Z'),
    });
    expect(payload).toEqual({
      type: 'webhook.test',
      timestamp: '2026-11-27T05:00:00.000Z',
      data: {
        message: expect.stringContaining('Test webhook'),
        callbackUrl: 'https://hooks.example.com/uxc',
      },
    });
  });

  it('is stamped with the current time by default', () => {
    const before = Date.now();
    const { timestamp } = buildWebhookTestPayload({ callbackUrl: 'https://x.example/' });
    expect(Date.parse(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(timestamp)).toBeLessThanOrEqual(Date.now());
  });
});

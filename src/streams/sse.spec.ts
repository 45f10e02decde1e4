import { formatSseEvent } from './sse';

describe('server-sent events', () => {
  it('are an id, a type and one line of JSON data, ended by a blank line', () => {
    const text = formatSseEvent({
      id: '7',
      type: 'task.progress',
      data: { message: 'line one\nline two', progress: 0.5 },
    });
    expect(text).toBe(
      'id: 7\nevent: task.progress\ndata: {"message":"line one\\nline two","progress":0.5}\n\n',
    );
  });
});

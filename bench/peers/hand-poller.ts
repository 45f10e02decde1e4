/**
 * Polling by hand: one client per sid asking the (fake) UXC every second, as
 * a business party without the relay would, stopping at the terminal state.
 * Each change is recorded at the moment the client first saw it.
 */
import { Agent, request } from 'node:http';
import { nowMs, servePeer } from '../support/peer';
import { sidOf, SUCCEEDED } from '../support/plans';

export interface HandPollRun {
  url: string;
  ak: string;
  sk: string;
  prefix: string;
  tasks: number;
  everyMs: number;
  maxMs: number;
}

export interface Sighting {
  index: number;
  message: string;
  at: number;
}

interface Answer {
  status: number;
  message: string;
}

function ask(agent: Agent, url: URL, cookie: string, sid: string): Promise<Answer | null> {
  const body = JSON.stringify({ sid });
  return new Promise((done) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/api/dispatch/task/get',
        headers: {
          cookie,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              data: Answer;
            };
            done(parsed.data);
          } catch {
            done(null);
          }
        });
      },
    );
    req.on('error', () => done(null));
    req.end(body);
  });
}

servePeer({
  start: () => ({}),
  run: async (args: HandPollRun): Promise<{ sightings: Sighting[]; finished: number }> => {
    const url = new URL(args.url);
    const cookie = `ak=${args.ak}; sk=${args.sk}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const sightings: Sighting[] = [];
    const deadline = nowMs() + args.maxMs;
    let finished = 0;
    const client = async (index: number): Promise<void> => {
      // clients start at random moments, as independent ones would
      await new Promise((done) => setTimeout(done, Math.random() * args.everyMs));
      let last = '';
      while (nowMs() < deadline) {
        const started = nowMs();
        const answer = await ask(agent, url, cookie, sidOf(args.prefix, index));
        if (answer !== null && answer.message !== last) {
          sightings.push({ index, message: answer.message, at: nowMs() });
          last = answer.message;
        }
        if (answer?.status === SUCCEEDED) {
          finished++;
          return;
        }
        await new Promise((done) =>
          setTimeout(done, Math.max(0, args.everyMs - (nowMs() - started))),
        );
      }
    };
    await Promise.all(Array.from({ length: args.tasks }, (_, i) => client(i)));
    agent.destroy();
    return { sightings, finished };
  },
});

import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

/** A request from the bench to a peer process, answered by `reply`. */
export interface PeerRequest {
  id: number;
  op: string;
  args?: unknown;
}

export interface PeerReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/**
 * A bench peer (fake UXC, receivers, load loops) in a process of its own, so
 * that its work is not counted against the relay nor the bench's own event
 * loop; the bench talks to it over the IPC channel.
 */
export class Peer {
  private next = 1;
  private readonly waiting = new Map<number, (reply: PeerReply) => void>();
  private readonly ended: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: PeerReply) => {
      const done = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      done?.(message);
    });
    this.ended = new Promise((done) => child.once('exit', () => done()));
    void this.ended.then(() => {
      for (const done of this.waiting.values())
        done({ id: 0, ok: false, error: 'peer process exited' });
      this.waiting.clear();
    });
  }

  /** Starts dist/bench/peers/<name>.js and waits for its `ready` answer. */
  static async start<T>(name: string, args: unknown): Promise<{ peer: Peer; ready: T }> {
    const child = fork(join(__dirname, '..', 'peers', `${name}.js`), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const peer = new Peer(child);
    const ready = await peer.call<T>('start', args);
    return { peer, ready };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  call<T>(op: string, args?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, (reply) =>
        reply.ok ? resolve(reply.value as T) : reject(new Error(`${op}: ${reply.error}`)),
      );
      this.child.send({ id, op, args } satisfies PeerRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.ended;
  }
}

/** The peer side: answers the bench's requests with `handlers[op](args)`. */
export function servePeer(
  handlers: Record<string, (args: never) => unknown | Promise<unknown>>,
): void {
  process.on('message', (message: PeerRequest) => {
    const handler = handlers[message.op];
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown op ${message.op}`);
        return handler(message.args as never);
      })
      .then(
        (value) => process.send?.({ id: message.id, ok: true, value } satisfies PeerReply),
        (error: unknown) =>
          process.send?.({
            id: message.id,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          } satisfies PeerReply),
      );
  });
  // the bench going away takes its peers with it
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

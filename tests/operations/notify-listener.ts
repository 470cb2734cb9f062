/**
 * A NOTIFY_SOCKET of the test's own: the unix datagram socket systemd listens on for sd_notify
 * messages, played by a small python3 program (Node cannot receive unix datagrams), which prints
 * each message as one JSON string per line. Ancillary data (the file descriptor of systemd-notify's
 * BARRIER=1) is not asked for, so the kernel closes it, which is what releases the barrier.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("LISTENING"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

/** Why the notify tests cannot run here, or undefined when they can. */
export function notifyToolsMissing(): string | undefined {
  for (const [tool, args] of [['python3', ['--version']], ['systemd-notify', ['--version']]] as const) {
    const r = spawnSync(tool, [...args], { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0) return `${tool} not found (make test installs systemd as root with apt: scripts/ensure-debian-tools.sh)`;
  }
  return undefined;
}

export class NotifyListener {
  readonly messages: string[] = [];
  private constructor(
    readonly path: string,
    private readonly proc: ChildProcess,
  ) {}

  static async start(dir: string, name: string): Promise<NotifyListener> {
    const path = join(dir, `${name}.sock`);
    const proc = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const listener = new NotifyListener(path, proc);
    let buffered = '';
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      proc.on('exit', (code) => reject(new Error(`notify listener exited (${String(code)}): ${err}`)));
      proc.stdout?.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const message = JSON.parse(line) as string;
          if (message === 'LISTENING') resolve();
          // systemd-notify's own synchronisation, not something the daemon said
          else if (message !== 'BARRIER=1') listener.messages.push(message);
        }
      });
    });
    await ready;
    return listener;
  }

  /** Each message's first line (READY=1, RELOADING=1, ...), in order. */
  states(): string[] {
    return this.messages.map((m) => m.split('\n')[0] ?? '');
  }

  /** The states other than watchdog pings. */
  transitions(): string[] {
    return this.states().filter((s) => s !== 'WATCHDOG=1');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGTERM');
    await exited;
  }
}

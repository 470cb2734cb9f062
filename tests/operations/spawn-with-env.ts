/** A built binary as a daemon (daemon-env's Daemon) with extra environment variables: NOTIFY_SOCKET and friends. */
import { spawn } from 'node:child_process';
import type { Daemon, Exit } from '../replication/daemon-env.js';

export function spawnWithEnv(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Daemon {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  if (proc.pid === undefined) throw new Error(`could not start ${script}`);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let done = false;
  const exited = new Promise<Exit>((resolve) =>
    proc.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    exited,
    running: () => !done,
    stop: async (killAfterMs = 30_000) => {
      if (!done) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
}

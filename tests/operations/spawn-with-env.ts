/** A built binary as a daemon (daemon-env's Daemon) with extra environment variables: NOTIFY_SOCKET and friends. */
import { spawnProgram, type Daemon } from '../replication/daemon-env.js';

export function spawnWithEnv(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Daemon {
  return spawnProgram(process.execPath, [script, ...args], undefined, env);
}

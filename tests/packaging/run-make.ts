/** `make TARGET VAR=value ...` in the repository, as a packager would run it; output captured. */
import { spawnSync } from 'node:child_process';
import { repoRoot } from '@skytools/harness';

export interface MakeResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runMake(target: string, vars: Record<string, string>, env: NodeJS.ProcessEnv = {}): MakeResult {
  const r = spawnSync('make', ['--no-print-directory', target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], {
    cwd: repoRoot(),
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The make run succeeded; its output, for further checks. */
export function made(r: MakeResult, what: string): MakeResult {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${String(r.status)}):\n${r.stdout}${r.stderr}`);
  return r;
}

/** Why systemd-analyze cannot run here, or undefined when it can. */
export function systemdAnalyzeMissing(): string | undefined {
  const r = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0 ? 'systemd-analyze not found (make test installs systemd as root with apt: scripts/ensure-debian-tools.sh)' : undefined;
}

/** Runs the built `londiste` binary as a user would, capturing exit code and output. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@skytools/harness';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function londisteBin(): string {
  return join(repoRoot(), 'packages', 'londiste', 'dist', 'bin', 'londiste.js');
}

/** Run a Node script (a built binary) to completion, capturing its output. */
export function runScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runProgram(process.execPath, [script, ...args], { env });
}

/**
 * Run any program to completion (upstream's londiste in interop tests), capturing its output.
 * `closedStdout`: its standard output is closed by the reader before it writes anything, as
 * `| head -0` would (its writes fail with EPIPE; stdout comes back empty).
 */
export function runProgram(command: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; closedStdout?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
    if (opts.closedStdout === true) child.stdout.destroy();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function runLondiste(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runScript(londisteBin(), args, env);
}

/** Run londiste with its standard output closed before it writes anything (runProgram's closedStdout). */
export function runLondisteIntoClosedPipe(args: readonly string[]): Promise<RunResult> {
  return runProgram(process.execPath, [londisteBin(), ...args], { closedStdout: true });
}

/** A temporary directory for job files; remove() deletes it. */
export function jobDir(): { dir: string; write: (name: string, body: Record<string, string>) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'skytools-jobs-'));
  return {
    dir,
    write: (name, body) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The command succeeded (exit 0); its result, for further checks. */
export function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}):\n${r.stderr}${r.stdout}`);
  return r;
}

/** The command failed as a refusal should: exit 1 and exactly one ERROR line, matching `re`. */
export function refused(r: RunResult, what: string, re: RegExp): void {
  assert.equal(r.code, 1, `${what}: exit ${String(r.code)}, expected 1:\n${r.stderr}${r.stdout}`);
  const errors = r.stderr.split('\n').filter((l) => /ERROR/.test(l));
  assert.equal(errors.length, 1, `${what}: one ERROR line expected:\n${r.stderr}`);
  assert.match(errors[0] ?? '', re, `${what}: the error line`);
}

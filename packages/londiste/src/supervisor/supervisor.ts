/**
 * londisted: every *.yaml (or upstream *.ini) file of jobs_dir is a job. reload() diffs the directory against the
 * running jobs: new files start, removed ones stop, changed ones restart, the rest keep running
 * untouched. A job file that does not load is reported and skipped (a running job of that name
 * keeps running on its old file).
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigWarnings, describeError, TickHub, UsageError, type Logger } from '@skytools/core';
import { jobFileFingerprint, loadJobConfig, type JobConfig } from '../job-config.js';
import { createCopyLimiter, type CopyLimiter } from '../worker/copy-scheduler.js';
import { JobRunner } from './job-runner.js';
import { loadConsumerJobConfig, peekJobType, type ConsumerJobConfig } from '../consumer-jobs/consumer-job-config.js';
import type { JobStats } from '../worker/job-stats.js';
import type { SupervisorConfig } from './supervisor-config.js';

interface JobFile {
  job: JobConfig | ConsumerJobConfig;
  fingerprint: string;
}

export class Supervisor {
  private readonly jobs = new Map<string, JobRunner>();
  private limiter: CopyLimiter;
  /** One LISTEN connection per provider database, shared by the jobs reading from it. */
  private readonly ticks: TickHub;
  /** Upstream keys dropped from .ini job files, said once per process rather than at every reload. */
  private readonly warnings: ConfigWarnings;

  constructor(
    private config: SupervisorConfig,
    private readonly log: Logger,
  ) {
    this.limiter = createCopyLimiter(config.max_parallel_copy);
    this.ticks = new TickHub(log, 'londisted tick listener');
    this.warnings = new ConfigWarnings(log);
  }

  /** The job files of jobs_dir; throws when the directory cannot be read. */
  private listJobFiles(): string[] {
    const dir = this.config.jobs_dir;
    try {
      return readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml') || n.endsWith('.ini')).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : code === 'EACCES' ? 'cannot be read (permission denied)' : describeError(err);
      throw new UsageError(`jobs_dir ${dir} ${why}: create it or point jobs_dir in the config file at the right directory`, { cause: err });
    }
  }

  private scan(): Map<string, JobFile> | null {
    const dir = this.config.jobs_dir;
    let files: string[];
    try {
      files = this.listJobFiles();
    } catch (err) {
      // a reload keeps the jobs it has
      this.log.error(`${describeError(err)}; the running jobs are kept`);
      return null;
    }
    const found = new Map<string, JobFile>();
    for (const f of files) {
      const file = join(dir, f);
      try {
        const job = peekJobType(file) === undefined ? loadJobConfig(file, this.warnings.warn) : loadConsumerJobConfig(file);
        if (found.has(job.job_name)) {
          this.log.error(`${file}: job name ${job.job_name} is used by another file too; skipped`);
          continue;
        }
        found.set(job.job_name, { job, fingerprint: jobFileFingerprint(file) });
      } catch (err) {
        this.log.error(`${basename(file)}: ${describeError(err)}; job skipped`);
        // keep a running job on its previous, valid file (found by file: its job_name may differ)
        const running = [...this.jobs.values()].find((r) => r.job.file === file);
        if (running !== undefined) found.set(running.job.job_name, { job: running.job, fingerprint: running.fingerprint });
      }
    }
    return found;
  }

  private startJob(f: JobFile): void {
    const runner = new JobRunner(f.job, f.fingerprint, this.log.child(f.job.job_name), this.limiter, this.config.restart_delay_max, this.ticks);
    this.jobs.set(f.job.job_name, runner);
    runner.start();
    this.log.info(`job ${f.job.job_name} started (${f.job.file})`);
  }

  /** The first load: a jobs_dir that cannot be read stops the daemon before it starts anything. */
  async start(): Promise<void> {
    this.listJobFiles();
    await this.reload();
  }

  /** Apply the jobs directory (on SIGHUP; start() at start-up). */
  async reload(config?: SupervisorConfig): Promise<void> {
    if (config !== undefined) {
      if (config.max_parallel_copy !== this.config.max_parallel_copy) this.limiter.concurrency = config.max_parallel_copy;
      this.config = config;
    }
    const found = this.scan();
    if (found === null) return;
    const stops: Promise<unknown>[] = [];
    const restarting = new Set<string>();
    for (const [name, runner] of this.jobs) {
      const f = found.get(name);
      if (f === undefined) {
        this.jobs.delete(name);
        this.log.info(`job ${name} removed: stopping`);
        stops.push(runner.stop(this.config.shutdown_timeout));
      } else if (f.fingerprint !== runner.fingerprint) {
        this.jobs.delete(name);
        restarting.add(name);
        this.log.info(`job ${name} changed: restarting`);
        stops.push(runner.stop(this.config.shutdown_timeout).then(() => this.startJob(f)));
      }
    }
    for (const [name, f] of found) if (!this.jobs.has(name) && !restarting.has(name)) this.startJob(f);
    await Promise.all(stops);
  }

  /** Every job's statistics, by job name. */
  jobStats(): JobStats[] {
    return [...this.jobs.values()].map((r) => r.stats).sort((a, b) => a.job.localeCompare(b.job));
  }

  /** Stop every job; resolves true when all finished within shutdown_timeout. */
  async shutdown(): Promise<boolean> {
    const results = await Promise.all([...this.jobs.values()].map((r) => r.stop(this.config.shutdown_timeout)));
    this.jobs.clear();
    await this.ticks.close();
    return results.every((x) => x);
  }
}

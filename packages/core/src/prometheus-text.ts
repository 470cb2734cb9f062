/**
 * Prometheus' text exposition format (version 0.0.4), written directly: a daemon exports a few
 * dozen counters and gauges with labels, which needs no registry, histograms or push support
 * (and no dependency beyond the project's chosen ones).
 */

export type MetricType = 'counter' | 'gauge';
export type Labels = Readonly<Record<string, string>>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class MetricsText {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  /** HELP and TYPE of a family, once; then its samples with sample(). */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    if (this.declared.has(name)) return this;
    this.declared.add(name);
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, value: number, labels: Labels = {}): this {
    if (!this.declared.has(name)) throw new Error(`metric ${name} sampled before its family was declared`);
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.lines.push(`${name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${formatValue(value)}`);
    return this;
  }

  /** A family with a single sample. */
  single(name: string, type: MetricType, help: string, value: number, labels: Labels = {}): this {
    return this.family(name, type, help).sample(name, value, labels);
  }

  /** The standard process_* metrics and the build's version. */
  processMetrics(program: string, version: string): this {
    const cpu = process.cpuUsage();
    this.single('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', (cpu.user + cpu.system) / 1e6);
    this.single('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', process.memoryUsage.rss());
    this.single('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.', Math.round(Date.now() / 1000 - process.uptime()));
    return this.single('skytools_build_info', 'gauge', 'Program and version (always 1).', 1, { program, version });
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** The content type of the format, for the HTTP response. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

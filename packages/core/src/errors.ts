/**
 * The one base class for every error this project raises on purpose.
 *
 * PostgreSQL's own diagnostics (`code`, `detail`, `hint`) are kept so callers can
 * branch on SQLSTATE and users see the server's advice, not just our wrapper text.
 */
export interface SkytoolsErrorOptions {
  cause?: unknown;
  code?: string;
  detail?: string;
  hint?: string;
}

export class SkytoolsError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: SkytoolsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    const pg = pgDiagnostics(options.cause);
    this.code = options.code ?? pg.code;
    this.detail = options.detail ?? pg.detail;
    this.hint = options.hint ?? pg.hint;
  }
}

/** Bad user input: configuration, command-line arguments, object names. */
export class UsageError extends SkytoolsError {}

/** Fields of a `pg` DatabaseError that we carry over; absent for non-database errors. */
export function pgDiagnostics(err: unknown): { code?: string; detail?: string; hint?: string } {
  if (typeof err !== 'object' || err === null) return {};
  const rec = err as Record<string, unknown>;
  const out: { code?: string; detail?: string; hint?: string } = {};
  if (typeof rec['code'] === 'string') out.code = rec['code'];
  if (typeof rec['detail'] === 'string') out.detail = rec['detail'];
  if (typeof rec['hint'] === 'string') out.hint = rec['hint'];
  return out;
}

/** A human one-liner for any thrown value: message plus server hint when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const { hint } = pgDiagnostics(err);
    return hint === undefined ? err.message : `${err.message} (hint: ${hint})`;
  }
  return String(err);
}

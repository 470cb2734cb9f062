/** setTimeout as a promise that any of the given AbortSignals ends early. */
export function sleep(ms: number, ...signals: AbortSignal[]): Promise<void> {
  if (signals.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    // plain listeners removed on completion: AbortSignal.any() would keep a derived signal per
    // call alive on long-lived sources, which adds up with a hundred databases ticking each second
    const done = (): void => {
      clearTimeout(t);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

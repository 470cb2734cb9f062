/**
 * Ordered steps for the few test files whose `it`s are one scenario in sequence (the seed's
 * walkthrough, one daemon's lifetime): each step names the earlier steps it builds on, and when
 * one of them did not complete it fails at once saying so, instead of failing obscurely on state
 * that is not there.
 */
export class ScenarioSteps {
  private readonly done = new Set<string>();

  /**
   * The body for an `it`: runs `body` if every step in `needs` completed, and records `name` as
   * completed when it returns.
   */
  step(name: string, needs: readonly string[], body: () => Promise<void>): () => Promise<void> {
    return async () => {
      const missing = needs.filter((n) => !this.done.has(n));
      if (missing.length > 0) {
        throw new Error(`scenario step "${name}" builds on step ${missing.map((m) => `"${m}"`).join(', ')}, which did not complete (see its failure above)`);
      }
      await body();
      this.done.add(name);
    };
  }
}

/**
 * Pages rendered by a real browser: Debian's chromium in headless mode, its DOM after the page's
 * scripts ran (--dump-dom), and a screenshot when a check of it fails.
 */
import { spawnSync } from 'node:child_process';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

function findBrowser(): string | undefined {
  for (const c of CANDIDATES) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return undefined;
}

/** Why the browser tests cannot run here (undefined: they can). */
export function chromiumMissing(): string | undefined {
  return findBrowser() === undefined ? `no ${CANDIDATES.join('/')} on PATH (make test installs Debian's chromium when root with apt: scripts/ensure-debian-tools.sh)` : undefined;
}

function browserArgs(): string[] {
  // running as root needs --no-sandbox; the throw-away profile keeps runs apart
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=/tmp/skytools-chromium-${String(process.pid)}`];
}

/**
 * The page's DOM once its scripts had `budgetMs` of (virtual) time, passed to `check`; when check
 * throws, a screenshot of the page is saved at `screenshot` and named in the error.
 */
export function renderPage(url: string, screenshot: string, check: (html: string) => void, budgetMs = 5000): string {
  const browser = findBrowser();
  if (browser === undefined) throw new Error(chromiumMissing());
  const r = spawnSync(browser, [...browserArgs(), `--virtual-time-budget=${String(budgetMs)}`, '--dump-dom', url], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${browser} --dump-dom ${url} failed (exit ${String(r.status)}): ${r.stderr}`);
  try {
    check(r.stdout);
  } catch (err) {
    spawnSync(browser, [...browserArgs(), `--virtual-time-budget=${String(budgetMs)}`, '--window-size=1280,1000', `--screenshot=${screenshot}`, url], { timeout: 60_000 });
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot of the page: ${screenshot})\n${r.stdout}`, { cause: err });
  }
  return r.stdout;
}

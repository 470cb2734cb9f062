// npm links workspace bins only when their files exist at install time, which is before the build;
// so after each build: give the built bins their exec bit and link them into node_modules/.bin.
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = JSON.parse(readFileSync('package.json', 'utf8'));
const binDir = join('node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
for (const ws of root.workspaces) {
  const pj = join(ws, 'package.json');
  if (!existsSync(pj)) continue;
  const { bin } = JSON.parse(readFileSync(pj, 'utf8'));
  for (const [name, file] of Object.entries(bin ?? {})) {
    const path = join(ws, file);
    if (!existsSync(path)) continue;
    chmodSync(path, 0o755);
    const link = join(binDir, name);
    const want = relative(binDir, path);
    let have;
    try {
      have = readlinkSync(link);
    } catch {
      have = undefined;
    }
    if (have === want) continue;
    if (have !== undefined || existsSync(link)) unlinkSync(link);
    symlinkSync(want, link);
  }
}

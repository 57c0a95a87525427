// The package as users import it: `import { compileFilter } from 'fplc'` from a script in the
// project root resolves through package.json's exports to the built dist/ (npm test builds it).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { projectRoot } from '../support/env.js';

it("a script in the project root imports { compileFilter } from 'fplc' and runs a sample", () => {
  const script = `
    import { readFileSync } from 'node:fs';
    import { compileFilter, loadFilter, runCapture } from 'fplc';
    const f = await compileFilter(readFileSync('samples/web.fpl', 'utf8'), { linkType: 'EN10MB' });
    const results = runCapture(f, readFileSync('samples/web.pcap'));
    const aot = await loadFilter(f.wasm);
    const again = runCapture(aot, readFileSync('samples/web.pcap'));
    console.log(JSON.stringify({ n: results.length, matched: results.filter((r) => r !== 0).length, same: again.join() === results.join() }));
  `;
  const file = join(projectRoot, `.tmp-import-${process.pid}.mjs`);
  writeFileSync(file, script);
  try {
    const r = spawnSync(process.execPath, [file], { cwd: projectRoot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.n).toBe(191);
    expect(out.matched).toBeGreaterThan(0);
    expect(out.same).toBe(true);
  } finally {
    rmSync(file, { force: true });
  }
});

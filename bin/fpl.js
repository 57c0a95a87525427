#!/usr/bin/env node
// The `fpl` command. The CLI is written in TypeScript (bin/cli.ts) and compiled to dist/ by
// `npm install` (prepare) or `npm run build`.
import('../dist/bin/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    console.error('fpl: the compiled CLI is missing; run `npm run build` first');
  } else {
    console.error(`fpl: ${err && err.stack ? err.stack : err}`);
  }
  process.exit(2);
});

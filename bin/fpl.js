#!/bin/sh
':' //; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"
// The `fpl` command. The CLI is written in TypeScript (bin/cli.ts), compiled to dist/ and
// bundled to dist/cli/ (which loads several times faster) by `npm install` (prepare) or
// `npm run build`.
//
// This file is both a shell script and JavaScript. Run as a program, /bin/sh reads line 2 (the
// no-op `:`), drops NODE_EXTRA_CA_CERTS and re-runs the file under node, which sees line 2 as a
// string and a comment. Node loads and parses that variable's certificate bundle while it
// boots, before any of our code runs: ~50 ms of a ~80 ms start on a machine that sets it,
// for TLS that fpl never uses. `node bin/fpl.js` works too, paying that cost.
import('../dist/cli/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    console.error('fpl: the compiled CLI is missing; run `npm run build` first');
  } else {
    console.error(`fpl: ${err && err.stack ? err.stack : err}`);
  }
  process.exit(2);
});

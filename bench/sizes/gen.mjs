// Writes the inputs of issue 19's size cases into the directory given (default /tmp/fplc-sizes).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.argv[2] ?? '/tmp/fplc-sizes';
mkdirSync(dir, { recursive: true });
const list = (n, f, sep) => Array.from({ length: n }, (_, i) => f(i)).join(sep);
const w = (name, text) => writeFileSync(join(dir, name), text);
w('ports-100000.txt', list(100_000, (i) => `port ${1 + (i % 65535)}`, ' or '));
w('tcp-and-100000.txt', list(100_000, () => 'tcp', ' and '));
w('plus-100000.txt', `ether[0] + ${list(99_999, () => '1', ' + ')} = 5`);
for (const n of [3_000, 30_000]) w(`host-port-${n}.txt`, list(n, (i) => `(host 10.${(i >> 8) & 255}.${i & 255}.1 and port ${1 + (i % 65535)})`, ' or '));
w('str-search-2000.fpl', list(2_000, (i) => `IF (EXTERN("STR_SEARCH", "word${i}", 0, 0)) THEN R[0] = R[0] + 1; FI`, '\n') + '\nRETURN R[0];\n');

/**
 * Grammar recipes (lang/grammar-recipe.ts): a grammar read back from its recipe is the grammar
 * its source builds; a recipe for other source, a corrupt or a missing one is ignored; and the
 * build wrote a current recipe for every front end into dist, where the CLI finds them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ohm from 'ohm-js';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecipe, writeRecipe } from '../../lang/grammar-recipe.js';
import { GRAMMAR_SOURCES } from '../../lang/write-recipes.js';
import { projectRoot } from '../support/env.js';

// Untyped in ohm's declarations (see lang/chain/parse.ts).
const failureAt = (m: ohm.MatchResult) => (m as unknown as { getRightmostFailurePosition(): number }).getRightmostFailurePosition();
const recipeOf = (g: ohm.Grammar) => (g as ohm.Grammar & { toRecipe(): string }).toRecipe();
const dirPath = mkdtempSync(join(tmpdir(), 'fplc-recipes-'));
const dir = pathToFileURL(dirPath + '/');
afterAll(() => rmSync(dirPath, { recursive: true, force: true }));

const samples: Record<string, string[]> = {
  fpl: ['IF (PKT.IP_PROTO == PROTO_TCP) THEN RETURN 1; FI; RETURN 0;', 'R[0] = R[0] +; '],
  pcapfilter: ['tcp dst port NUM', 'host HID or and'],   // over the lexer's words (grammar.ts)
  chain: ['(BPF,expr="tcp") > (packetcount)', '(a,b) > > (c)'],
};

describe('grammar recipes', () => {
  for (const [name, source] of Object.entries(GRAMMAR_SOURCES)) {
    it(`${name}: the grammar read from its recipe is the one its source builds`, () => {
      writeRecipe(name, source, dir);
      const fromRecipe = readRecipe(name, source, dir);
      expect(fromRecipe).toBeDefined();
      const fromSource = ohm.grammar(source);
      expect(recipeOf(fromRecipe!)).toBe(recipeOf(fromSource));
      for (const input of samples[name]!) {
        const [a, b] = [fromRecipe!.match(input), fromSource.match(input)];
        expect(a.succeeded()).toBe(b.succeeded());
        if (a.failed()) expect(failureAt(a)).toBe(failureAt(b));
      }
      expect(samples[name]!.some((s) => fromSource.match(s).succeeded())).toBe(true);
    });
  }

  it('ignores a recipe made from other source, a corrupt one and a missing one', () => {
    writeRecipe('chain', GRAMMAR_SOURCES.chain!, dir);
    expect(readRecipe('chain', GRAMMAR_SOURCES.chain! + '\n', dir)).toBeUndefined();
    writeFileSync(join(dirPath, 'broken.json'), '{"sourceHash": ');
    expect(readRecipe('broken', GRAMMAR_SOURCES.chain!, dir)).toBeUndefined();
    expect(readRecipe('absent', GRAMMAR_SOURCES.chain!, dir)).toBeUndefined();
  });

  it('the build wrote a current recipe for every grammar where the compiled CLI looks', () => {
    const built = pathToFileURL(join(projectRoot, 'dist/lang/recipes') + '/');
    for (const [name, source] of Object.entries(GRAMMAR_SOURCES)) {
      expect(readRecipe(name, source, built), `dist/lang/recipes/${name}.json (npm run build writes it)`).toBeDefined();
    }
  });
});

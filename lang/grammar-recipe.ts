/**
 * The front ends' ohm grammars, built from source or from a recipe written at build time.
 *
 * ohm builds a grammar from its source by parsing that source with its own grammar: 115–170 ms
 * for FPL's and libpcap's, paid by every process on its first compile. From a recipe (ohm's
 * serialized form of a built grammar) it takes ~7 ms. `npm run build` writes one recipe per
 * grammar (lang/write-recipes.ts) into a `recipes` directory beside this module, each tagged
 * with a hash of the source it came from and ohm's version; a recipe that does not match the
 * source in hand, or cannot be read, is ignored and the grammar is built from source.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as ohm from 'ohm-js';

// ohm-js exports makeRecipe and Grammar#toRecipe (its own grammar ships as a recipe) but does
// not declare them in its types.
const ohmRecipes = ohm as unknown as { makeRecipe(recipe: unknown): ohm.Grammar };
type WithRecipe = ohm.Grammar & { toRecipe(): string };

// Named from this file's directory, lang/ or dist/lang/, or the CLI's bundle dist/cli/.
export const RECIPE_DIR = new URL('../lang/recipes/', import.meta.url);

interface SavedRecipe { sourceHash: string; ohm: string; recipe: unknown }

function sourceHash(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

/** The grammar from `name`'s recipe in `dir`, or undefined when there is none for this source. */
export function readRecipe(name: string, source: string, dir: URL = RECIPE_DIR): ohm.Grammar | undefined {
  let saved: SavedRecipe;
  try {
    saved = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as SavedRecipe;
  } catch {
    return undefined;
  }
  if (saved?.sourceHash !== sourceHash(source) || saved.ohm !== ohm.version) return undefined;
  try {
    return ohmRecipes.makeRecipe(saved.recipe);
  } catch {
    return undefined;
  }
}

/** Builds the grammar from source and writes its recipe as `dir/name.json`. */
export function writeRecipe(name: string, source: string, dir: URL = RECIPE_DIR): void {
  const recipe = JSON.parse((ohm.grammar(source) as WithRecipe).toRecipe()) as unknown;
  mkdirSync(dir, { recursive: true });
  const saved: SavedRecipe = { sourceHash: sourceHash(source), ohm: ohm.version, recipe };
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(saved));
}

/** The grammar `name` with this source: from its recipe when one matches, else from source. */
export function loadGrammar(name: string, source: string): ohm.Grammar {
  return readRecipe(name, source) ?? ohm.grammar(source);
}

/**
 * `npm run build` runs this after tsc: it writes each front end's grammar recipe beside the
 * compiled grammar-recipe module (dist/lang/recipes/), so that a process builds its grammars in
 * milliseconds instead of parsing their ohm source (see grammar-recipe.ts).
 */
import { pathToFileURL } from 'node:url';
import { FPL_GRAMMAR_SOURCE } from './fpl/grammar.js';
import { PCAP_GRAMMAR_SOURCE } from './pcapfilter/grammar.js';
import { chainGrammarSource } from './chain/grammar.js';
import { RECIPE_DIR, writeRecipe } from './grammar-recipe.js';

/** Every grammar with a recipe, by the name its module loads it under. */
export const GRAMMAR_SOURCES: Readonly<Record<string, string>> = {
  fpl: FPL_GRAMMAR_SOURCE,
  pcapfilter: PCAP_GRAMMAR_SOURCE,
  chain: chainGrammarSource,
};

export function writeAllRecipes(dir: URL = RECIPE_DIR): void {
  for (const [name, source] of Object.entries(GRAMMAR_SOURCES)) writeRecipe(name, source, dir);
}

// Run as a script (node dist/lang/write-recipes.js): write them where the grammars look.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) writeAllRecipes();

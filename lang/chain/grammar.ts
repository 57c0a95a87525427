/**
 * The FFPF flow-graph language (ohm-js). Two forms:
 *   (device,expr=eth0) > (sampler,expr=2) > (BPF,expr="tcp port 80") > (packetcount)
 *   (device,eth0) -> (sampler,2,4) -> [ (packetcount,,8) | (bytecount,,8) ]
 * A node is `(class, arguments…)`; `[a | b]` is a group of alternative sub-paths that share
 * what comes before (and after) the group. `#` starts a comment to the end of the line.
 */
import type * as ohm from 'ohm-js';
import { loadGrammar } from '../grammar-recipe.js';

export const chainGrammarSource = String.raw`
Chain {
  Graph = Path end
  Path = Element (connector Element)*
  Element = Node | Group
  Group = "[" Path ("|" Path)* "]"
  Node = "(" className ("," Arg?)* ")"
  Arg = argName "=" Value  -- named
      | Value              -- plain
  Value (an argument value) = string | number | word

  connector = "->" | ">"
  className (a class name) = letter (alnum | "_")*
  argName = letter (alnum | "_")* &(space* "=")
  number = "0x" hexDigit+ ~wordChar  -- hex
         | "-"? digit+ ~wordChar     -- dec
  word = wordChar+
  wordChar = alnum | "_" | "." | "/" | ":" | "-" | "@" | "*" | "+"
  string = "\"" dqChar* "\"" | "'" sqChar* "'"
  dqChar = "\\" any  -- escape
         | ~("\"" | "\n") any  -- plain
  sqChar = "\\" any  -- escape
         | ~("'" | "\n") any  -- plain

  space += comment
  comment = "#" (~"\n" any)*
}
`;

let grammar: ohm.Grammar | undefined;

export function chainGrammar(): ohm.Grammar {
  grammar ??= loadGrammar('chain', chainGrammarSource);
  return grammar;
}

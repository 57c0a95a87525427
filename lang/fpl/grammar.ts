/**
 * The FPL grammar (spec/fpl.md), for ohm-js. Binary operator levels are written as iterations
 * (`A (op A)*`) rather than left recursion: the semantic actions fold them left-associatively,
 * and ohm then reports the rightmost failure at the token the user actually got wrong.
 *
 * Keywords and built-ins are case-insensitive; names (fields, constants, extern names) are
 * parsed as plain identifiers and checked by the lowering, which can say "did you mean".
 * Rule descriptions in parentheses are what syntax errors print as "expected …".
 */
import type * as ohm from 'ohm-js';
import { loadGrammar } from '../grammar-recipe.js';

const KEYWORDS = ['IF', 'THEN', 'ELSE', 'FI', 'FOR', 'ROF', 'BREAK', 'RETURN', 'EXTERN', 'TRUE', 'FALSE',
  'HASH', 'PKT', 'R', 'M'] as const;

const kwRule = (w: string): string => `kw${w[0]}${w.slice(1).toLowerCase()}`;
const keywordRules = KEYWORDS.map((w) =>
  `  ${kwRule(w)} ("${w}") = caseInsensitive<"${w}"> ~identPart`).join('\n');

export const FPL_GRAMMAR_SOURCE = String.raw`
FPL {
  Program = Stmt* end

  Stmt = IfStmt | ForStmt | BreakStmt | ReturnStmt | ExternStmt | AssignStmt
  IfStmt = kwIf "(" Expr ")" kwThen Stmt* ElsePart? IfEnd
  ElsePart = kwElse Stmt*
  IfEnd = kwFi ";"?  -- closed
        | end        -- open
  ForStmt = kwFor "(" Update ";" Expr ";" Update ")" Stmt* kwRof ";"?
  BreakStmt = kwBreak ";"
  ReturnStmt = kwReturn Expr ";"
  ExternStmt = ExternCall ";"
  AssignStmt = Update ";"
  Update = LValue incOp          -- inc
         | LValue assignOp Expr  -- assign
  LValue = RegRef | MemRef

  Expr = LogOr
  LogOr = LogAnd (logOrOp LogAnd)*
  LogAnd = BitOr (logAndOp BitOr)*
  BitOr = BitXor (bitOrOp BitXor)*
  BitXor = BitAnd (bitXorOp BitAnd)*
  BitAnd = Equality (bitAndOp Equality)*
  Equality = Relational (eqOp Relational)*
  Relational = Shift (relOp Shift)*
  Shift = Additive (shiftOp Additive)*
  Additive = Multiplicative (addOp Multiplicative)*
  Multiplicative = Unary (mulOp Unary)*
  Unary = unaryOp Unary  -- op
        | Primary

  Primary = "(" Expr ")"  -- paren
          | PktRef
          | RegRef
          | MemRef
          | HashCall
          | ExternCall
          | kwTrue   -- true
          | kwFalse  -- false
          | number
          | name     -- name

  PktRef = kwPkt "." name Index? SubField?
  Index = "[" Expr "]"
  SubField = "." name "[" Expr "]"
  RegRef = kwR "[" Expr "]"
  MemRef = kwM "[" Expr "]"
  HashCall = kwHash "[" Expr "," Expr "," Expr "]"  -- square
           | kwHash "(" Expr "," Expr "," Expr ")"  -- round
  ExternCall = kwExtern "(" externName ("," ExternArg)* ")"
  ExternArg = string | Expr
  externName = string | name

  logOrOp = "||"
  logAndOp = "&&"
  bitOrOp = "|" ~("|" | "=")
  bitXorOp = "^" ~"="
  bitAndOp = "&" ~("&" | "=")
  eqOp = "==" | "!="
  relOp = "<=" | ">=" | "<" ~("<" | "=") | ">" ~(">" | "=")
  shiftOp = ("<<" | ">>") ~"="
  addOp = "+" ~("+" | "=") | "-" ~("-" | "=")
  mulOp = ("*" | "/" | "%") ~"="
  unaryOp = "!" ~"=" | "~" | "-" ~("-" | "=")
  incOp = "++" | "--"
  assignOp (an assignment operator) = "<<=" | ">>=" | "+=" | "-=" | "*=" | "/=" | "%=" | "&=" | "|=" | "^=" | "=" ~"="

  number (a number) = dottedQuad | hex | decimal
  dottedQuad = digit+ "." digit+ "." digit+ "." digit+ ~identPart
  hex = "0" ("x" | "X") hexDigit+ ~identPart
  decimal = digit+ ~identPart
  string (a string) = "\"" (~("\"" | "\n") any)* "\""
  name (a name) = ~keyword identStart identPart*
  identStart = letter | "_"
  identPart = alnum | "_"
  keyword = ${KEYWORDS.map(kwRule).join(' | ')}
${keywordRules}

  comment = "//" (~"\n" any)*    -- line
          | "/*" (~"*/" any)* "*/"  -- block
  space += comment
}`;

let compiled: ohm.Grammar | undefined;

/** The grammar, built on first use (see grammar-recipe.ts). */
export function fplGrammar(): ohm.Grammar {
  compiled ??= loadGrammar('fpl', FPL_GRAMMAR_SOURCE);
  return compiled;
}

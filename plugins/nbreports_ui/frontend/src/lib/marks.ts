// Matched words shown as <mark>: a search hit's snippet (the server says which pieces matched) and
// a query's plain words inside a notebook cell. Always text nodes and <mark> elements, never HTML.
// Words are what the index calls words (nbreports/search/tokens.py): runs of letters and digits,
// compared case-insensitively; underscores and punctuation separate them.
import { h } from "./dom";
import type { SnippetPart } from "./types";

const WORD = /[\p{L}\p{N}]+/gu;
const FILTER = /^-?[A-Za-z_]+:/; // report:, team:, after:… (and their negations)
const OPERATORS = new Set(["OR", "AND", "NOT"]);

/** A word to mark: `prefix` words (`rev*`) mark every word they start. */
export interface Term {
  word: string;
  prefix: boolean;
}

const fold = (text: string): string => text.toLocaleLowerCase("en");

/** The plain words of a search query: no filters, no excluded (-word) terms, no operators. */
export function queryTerms(q: string): Term[] {
  const terms: Term[] = [];
  // a phrase (maybe excluded), a filter with a quoted value, any other token
  for (const match of q.matchAll(/(-?)"([^"]*)"?|-?[A-Za-z_]+:"[^"]*"?|(\S+)/g)) {
    const [, negated = "", phrase, token] = match;
    if (phrase !== undefined) {
      if (!negated) for (const [word] of phrase.matchAll(WORD)) terms.push({ word: fold(word), prefix: false });
      continue;
    }
    if (token === undefined || token.startsWith("-") || FILTER.test(token) || OPERATORS.has(token)) continue;
    const words = [...token.matchAll(WORD)].map(([word]) => fold(word));
    words.forEach((word, i) => { terms.push({ word, prefix: i === words.length - 1 && token.endsWith("*") }); });
  }
  return terms;
}

const matches = (word: string, terms: readonly Term[]): boolean => {
  const w = fold(word);
  return terms.some((t) => (t.prefix ? w.startsWith(t.word) : w === t.word));
};

/** `text` as text nodes, with every word that `terms` match in a <mark>. */
export function markWords(text: string, terms: readonly Term[]): Node[] {
  if (!terms.length) return [document.createTextNode(text)];
  const out: Node[] = [];
  let from = 0;
  for (const match of text.matchAll(WORD)) {
    if (!matches(match[0], terms)) continue;
    if (match.index > from) out.push(document.createTextNode(text.slice(from, match.index)));
    out.push(h("mark", { text: match[0] }));
    from = match.index + match[0].length;
  }
  if (from < text.length) out.push(document.createTextNode(text.slice(from)));
  return out;
}

/** A hit's snippet: its matched pieces in <mark>, the rest as text. */
export function snippetNodes(parts: readonly SnippetPart[]): Node[] {
  return parts.map((p) => (p.hit ? h("mark", { text: p.text }) : document.createTextNode(p.text)));
}

/**
 * The regular expressions a custom check may use. Rego's `regex.match` and CEL's `matches` both run Go's
 * `regexp` (RE2 syntax, unanchored search), so a pattern that compiles matches the same strings in both
 * engines. What differs is only what happens to a pattern that does not compile: Rego makes the expression
 * undefined at evaluation time, CEL refuses the policy. A pattern is therefore checked when the expression
 * is built, against a subset of RE2 that Go's parser certainly accepts; anything outside it is refused.
 *
 * The subset: literal characters; `.`; anchors `^` `$` `\A` `\z` `\b` `\B`; the classes `\d \D \w \W \s \S`;
 * escapes `\n \t \r \f \v`, `\xHH` and `\` before any ASCII punctuation; bracket classes `[...]` / `[^...]`
 * of characters, escapes and ranges (a `-` only first, last or escaped; `[` and `]` escaped); groups `(...)`
 * and `(?:...)`; alternation; quantifiers `* + ? {n} {n,} {n,m}` (n, m ≤ 1000, nested counts ≤ 1000 in
 * all), each optionally lazy (`*?`); leading flags `(?i)`, `(?m)`, `(?s)` (any combination). Not in it:
 * back-references, lookaround, named groups, `\p{…}`, `\Q…\E`, POSIX classes, possessive quantifiers (none
 * of which RE2 has, or whose spelling differs between RE2 dialects).
 */

const MAX_REPEAT = 1000;
const MAX_DEPTH = 100;

function isAsciiPunct(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp > 0x20 && cp < 0x7f && !/[A-Za-z0-9]/.test(c);
}

/** Throws an Error naming the problem when `pattern` is outside the supported RE2 subset (see above). */
export function checkRegex(pattern: string): void {
  const chars = Array.from(pattern);
  for (const ch of chars) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Error('regex: the pattern contains a lone surrogate');
  }
  let pos = 0;
  const fail = (why: string): never => {
    throw new Error(`regex ${JSON.stringify(pattern)}: ${why} at offset ${pos}`);
  };
  const peek = (): string | undefined => chars[pos];

  // Leading flags.
  const flags = /^\(\?[ims]+\)/.exec(pattern);
  if (flags) {
    if (new Set(flags[0].slice(2, -1)).size !== flags[0].length - 3) fail('a flag is repeated');
    pos = Array.from(flags[0]).length;
  }

  /** Parses an escape after the backslash; returns what it is. */
  const escape = (inClass: boolean): 'char' | 'class' | 'assertion' => {
    const c = chars[pos++];
    if (c === undefined) return fail('the pattern ends with a backslash');
    if ('dDwWsS'.includes(c)) return 'class';
    if (!inClass && 'bBAz'.includes(c)) return 'assertion';
    if ('ntrfv'.includes(c)) return 'char';
    if (c === 'x') {
      const hex = chars.slice(pos, pos + 2).join('');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail('\\x needs two hex digits');
      pos += 2;
      return 'char';
    }
    if (isAsciiPunct(c)) return 'char';
    return fail(`the escape \\${c} is not supported`);
  };

  /** One character of a bracket class (an escape, or a literal), as a code point, or 'class' for \d and the like. */
  const classChar = (): number | 'class' => {
    const c = chars[pos]!;
    if (c === '\\') {
      pos++;
      const start = pos;
      const kind = escape(true);
      if (kind === 'class') return 'class';
      const body = chars.slice(start, pos).join('');
      if (body.startsWith('x')) return parseInt(body.slice(1), 16);
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11 };
      return simple[body] ?? body.codePointAt(0)!;
    }
    if (c === '[' || c === ']') fail(`an unescaped ${c} in a bracket class`);
    pos++;
    return c.codePointAt(0)!;
  };

  const bracket = (): void => {
    pos++; // [
    if (peek() === '^') pos++;
    let items = 0;
    for (;;) {
      const c = peek();
      if (c === undefined) fail('an unterminated bracket class');
      if (c === ']') break;
      if (c === '-') {
        // Only first or last.
        if (items !== 0 && chars[pos + 1] !== ']') fail('a - inside a bracket class that is not a range (escape it)');
        pos++;
        items++;
        continue;
      }
      const lo = classChar();
      if (peek() === '-' && chars[pos + 1] !== ']') {
        pos++;
        if (peek() === undefined || peek() === ']') fail('an unterminated range');
        const hi = classChar();
        if (lo === 'class' || hi === 'class') fail('a range with a class escape');
        if ((lo as number) > (hi as number)) fail('a range whose end is before its start');
      }
      items++;
    }
    if (items === 0) fail('an empty bracket class');
    pos++; // ]
  };

  /** Parses the quantifier after an atom, if any: its largest count (unbounded ones count 1), else undefined. */
  const quantifier = (): number | undefined => {
    const c = peek();
    let count: number | undefined;
    if (c === '*' || c === '+' || c === '?') {
      pos++;
      count = 1;
    } else if (c === '{') {
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(chars.slice(pos, pos + 12).join(''));
      if (!m) return fail('a { that is not a repetition {n}, {n,} or {n,m} (escape it)');
      const n = Number(m[1]);
      const max = m[2] === undefined ? n : m[3] === '' ? n : Number(m[3]);
      if (n > MAX_REPEAT || max > MAX_REPEAT) fail(`a repetition count above ${MAX_REPEAT}`);
      if (max < n) fail('a repetition {n,m} with m < n');
      pos += m[0].length;
      count = Math.max(1, max);
    } else return undefined;
    if (peek() === '?') pos++;
    const next = peek();
    if (next === '*' || next === '+' || next === '?' || next === '{') fail('a repeated quantifier');
    return count;
  };

  /** Parses alternatives until `)` or the end; returns the largest repetition product inside. */
  const alternation = (depth: number): number => {
    if (depth > MAX_DEPTH) fail('groups nested too deeply');
    let product = 1;
    for (;;) {
      const c = peek();
      if (c === undefined || c === ')') return product;
      if (c === '|') {
        pos++;
        continue;
      }
      let inner = 1;
      let quantifiable = true;
      if (c === '(') {
        pos++;
        if (peek() === '?') {
          if (chars[pos + 1] !== ':') fail('only (?:...) groups and leading flags are supported');
          pos += 2;
        }
        inner = alternation(depth + 1);
        if (peek() !== ')') fail('an unclosed group');
        pos++;
      } else if (c === ')') {
        return product;
      } else if (c === '[') {
        bracket();
      } else if (c === '\\') {
        pos++;
        quantifiable = escape(false) !== 'assertion';
      } else if (c === '^' || c === '$') {
        pos++;
        quantifiable = false;
      } else if (c === '*' || c === '+' || c === '?' || c === '{') {
        fail('a quantifier with nothing to repeat');
      } else if (c === ']' || c === '}') {
        fail(`an unescaped ${c}`);
      } else {
        pos++;
      }
      const q = quantifier();
      if (q !== undefined && !quantifiable) fail('a quantified assertion');
      const total = inner * (q ?? 1);
      if (total > MAX_REPEAT) fail(`nested repetition counts above ${MAX_REPEAT} in all`);
      product = Math.max(product, total);
    }
  };

  alternation(0);
  if (pos < chars.length) fail('an unmatched )');
}

/** Go's `\s` (RE2: `[\t\n\f\r ]`, no vertical tab or Unicode spaces). */
const GO_SPACE = '\\t\\n\\f\\r ';

/**
 * A JavaScript RegExp that matches what Go's regexp matches for a pattern of the subset above (an unanchored
 * search), or undefined where the translation would be unsure (the `m` flag, `\S` inside a class): the
 * caller then cannot evaluate the pattern offline. Used by src/custom/evaluate.ts.
 */
export function goRegex(pattern: string): RegExp | undefined {
  checkRegex(pattern);
  const flags = /^\(\?([ims]+)\)/.exec(pattern);
  const f = new Set(flags?.[1] ?? '');
  if (f.has('m')) return undefined;
  const chars = Array.from(flags ? pattern.slice(flags[0].length) : pattern);
  let out = '';
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      const e = chars[++i]!;
      if (e === 's') out += inClass ? GO_SPACE : `[${GO_SPACE}]`;
      else if (e === 'S') {
        if (inClass) return undefined;
        out += `[^${GO_SPACE}]`;
      } else if (e === 'A') out += '(?<![\\s\\S])';
      else if (e === 'z') out += '(?![\\s\\S])';
      else if (/[dDwWbBntrfv]/.test(e)) out += `\\${e}`;
      else if (e === 'x') {
        out += `\\x${chars[i + 1]}${chars[i + 2]}`;
        i += 2;
      } else out += `\\x${e.codePointAt(0)!.toString(16).padStart(2, '0')}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (chars[i + 1] === '^') out += chars[++i];
      // A `]` right after `[` or `[^` is a literal in RE2 only when escaped (the subset requires it).
      continue;
    }
    if (c === '.') {
      out += f.has('s') ? '[\\s\\S]' : '[^\\n]';
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, `u${f.has('i') ? 'i' : ''}`);
  } catch {
    return undefined;
  }
}

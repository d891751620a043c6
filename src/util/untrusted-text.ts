/**
 * Untrusted text: Vault keys and values, account and target names, S3 snapshot fields, AWS and Vault error texts.
 * Whoever names a Vault key or an AWS account controls it, so no printer may let it drive the terminal, forge a
 * line, or become a GitHub Actions workflow command. Every human-facing line and every log line passes the data it
 * carries through `escapeUntrusted` (or the `untrusted` template); JSON output stays exact data and only gets JSON
 * escapes (`stringifyJsonSafely`). Why each rule exists:
 * - control characters (C0, DEL, C1), line and paragraph separators, format controls (bidi overrides, zero-width
 *   characters, BOM, tags) and lone surrogates move the cursor, retitle the terminal, hide or reorder text, or split
 *   one field into forged lines: they are shown as `\n`, `\r`, `\t` and `\u001b`-style escapes instead;
 * - the Actions runner reads a line whose first non-blank characters are `::` as a command, and `##[` anywhere in a
 *   line as the older command form: the first `:` of a leading `::` is shown as `\u003a` and the `#` that starts
 *   `##[` as `\u0023`, visibly, never silently dropped.
 */

import {stringifyJson} from './exact-json.js'

/** What a field may not carry raw: C0 (with \t \n \r), DEL, C1, line/paragraph separators, format controls, lone surrogates. */
const UNSAFE_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu

const SHORT_ESCAPES: Readonly<Record<string, string>> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

const hex4 = (unit: number): string => `\\u${unit.toString(16).padStart(4, '0')}`

/** `\u001b` for a BMP code point, `\u{e0041}` beyond it (so one escape is one character). */
const visibleEscape = (character: string): string => {
  const point = character.codePointAt(0) ?? 0
  return SHORT_ESCAPES[character] ?? (point > 0xffff ? `\\u{${point.toString(16)}}` : hex4(point))
}

// The runner trims leading white space (as .NET's TrimStart does) before it looks for `::`.
const LEADING_COMMAND = /^(\s*):(?=:)/u
// The `#` that starts `##[`; a lookahead, so `###[` is caught too and no replacement forms a new one.
const LEGACY_COMMAND = /#(?=#\[)/g

/**
 * Keeps a line from being read as a workflow command: a leading `::` (after white space) gets its first `:` shown
 * as `\u003a`, and every `##[` its first `#` as `\u0023`. Control characters are left alone, so a line that holds
 * our own ANSI colours keeps them; the data in it must already have passed `escapeUntrusted`.
 */
export const guardLine = (line: string): string =>
  line.replace(LEADING_COMMAND, '$1\\u003a').replace(LEGACY_COMMAND, '\\u0023')

/** `guardLine` for every line of a block of text. */
export const guardLines = (text: string): string => text.split('\n').map(guardLine).join('\n')

/**
 * One field of untrusted text, made safe for any human-facing or log line: unsafe characters become visible
 * escapes (so the field stays on one line), and it cannot start or carry a workflow command wherever it lands.
 */
export const escapeUntrusted = (text: string): string => guardLine(text.replace(UNSAFE_CHARACTER, visibleEscape))

/** Text our own code produced (ANSI colours, already-escaped parts): `untrusted` inserts it as it is. */
export class VerbatimText {
  constructor(readonly text: string) {}
}

/** Marks text as ours, for the `untrusted` template. Never wrap data in it. */
export const verbatim = (text: string): VerbatimText => new VerbatimText(text)

const interpolated = (value: unknown): string => {
  if (value instanceof VerbatimText) return value.text
  return escapeUntrusted(typeof value === 'string' ? value : String(value))
}

/**
 * Template tag for lines built from data: every `${value}` passes `escapeUntrusted` (unless wrapped in `verbatim`),
 * and every resulting line `guardLine`, so a new field in a renderer is safe by being written inside it:
 * `` untrusted`  ${mark} ${change.name} — ${change.error}` ``.
 */
export function untrusted(strings: TemplateStringsArray, ...values: unknown[]): string {
  let out = strings[0] ?? ''
  values.forEach((value, index) => {
    out += interpolated(value) + (strings[index + 1] ?? '')
  })
  return guardLines(out)
}

/**
 * The message (data) of a workflow command, escaped as GitHub documents it: `%` → `%25`, CR → `%0D`, LF → `%0A`
 * (`%` first, so an escape in the text stays literal).
 */
export const escapeCommandData = (text: string): string =>
  text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')

/** A property value of a workflow command (`title=…`): the data escapes, and `:` → `%3A`, `,` → `%2C` (delimiters). */
export const escapeCommandProperty = (text: string): string =>
  escapeCommandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')

// Characters JSON.stringify leaves raw: DEL, C1, separators, format controls (C0 it escapes itself, lone surrogates too).
const JSON_UNSAFE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu

const jsonEscape = (character: string): string => {
  let out = ''
  for (let i = 0; i < character.length; i++) out += hex4(character.charCodeAt(i))
  return out
}

/**
 * JSON text with the same data, safe for a terminal and an Actions log: what `JSON.stringify` leaves raw (DEL, C1,
 * bidi and zero-width characters, U+2028/2029) and the `#` of every `##[` become `\uXXXX` escapes. Those characters
 * only occur inside strings, so `JSON.parse` gives back exactly the original values; a JSON line cannot start with
 * `::` (it starts with a brace, a quote or indentation before one).
 */
export const escapeJsonText = (json: string): string =>
  json.replace(JSON_UNSAFE, jsonEscape).replace(LEGACY_COMMAND, '\\u0023')

/** The exact serialiser (`stringifyJson`: exact numbers, every key; 2-space indent by default) through `escapeJsonText`. */
export const stringifyJsonSafely = (value: unknown, indent = 2): string => escapeJsonText(stringifyJson(value, indent))

import {seededRandom} from './controls.js'
/**
 * A seeded generator of hostile text: what an attacker who names a Vault key, an AWS account or a target, or who
 * shapes an AWS or Vault error, would write to drive a terminal or an Actions runner. The same seed gives the same
 * text, so a failure names its seed and can be replayed.
 */

/** Pieces that each attack a printer: terminal escapes, line forgery, workflow commands, reordering, sheer length. */
export const HOSTILE_ATOMS: readonly string[] = [
  '\u001b]0;pwn\u0007', // retitle the terminal (OSC ... BEL)
  '\u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\', // hyperlink (OSC 8 ... ST)
  '\u001b[2J', // clear the screen
  '\u001b[1A\u001b[2K', // move up and erase: rewrite an earlier line
  '\u001bP+q\u001b\\', // DCS
  '\u0007', // BEL
  '\u009b31m', // C1 CSI
  '\u009d0;pwn\u009c', // C1 OSC ... C1 ST
  '\u0085', // NEL
  '\u007f',
  '\u0000',
  '\u0008\u0008\u0008', // backspaces
  '\t',
  '\r',
  '\rOVERWRITTEN',
  '\n',
  '\r\n',
  '\n::error::forged',
  '\n  ::warning title=x::forged',
  '::error::forged',
  '::add-mask::x',
  '::stop-commands::x',
  '::endgroup::',
  '::set-output name=x::y',
  '##[set-output name=x;]y',
  '##[add-mask]x',
  '###[error]x',
  '##',
  '#',
  '[',
  '::',
  ':',
  ',',
  '%0A',
  '%0D%0A::error::x',
  '%25',
  '%',
  '\u202e', // right-to-left override
  '\u202d',
  '\u2066', // left-to-right isolate
  '\u2069', // pop directional isolate
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\u2060', // word joiner
  '\ufeff', // BOM
  '\u00ad', // soft hyphen
  '\u2028', // line separator
  '\u2029', // paragraph separator
  '\u{e0041}\u{e0042}', // tag characters
  '\ud800', // lone surrogate
  '\u00a0', // no-break space (leading white space the runner trims)
  '\u3000',
  'ünïcødé',
  '日本語',
  '😀',
  '👩‍💻',
  '|',
  '<b>x</b>',
  '*_`~',
  '"',
  "'",
  '\\',
  '\\u001b',
  '${VAULT_TOKEN}',
  '§0§',
  '../',
  '__proto__',
  ' ',
  'plain',
  'app/db',
]

export {seededRandom}

export class HostileText {
  readonly random: () => number

  constructor(readonly seed: number) {
    this.random = seededRandom(seed)
  }

  int(max: number): number {
    return Math.floor(this.random() * max)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  chance(p: number): boolean {
    return this.random() < p
  }

  /** One to six atoms, sometimes mixed with plain words; now and then many thousands of characters. */
  string(): string {
    const parts: string[] = []
    const count = 1 + this.int(6)
    for (let i = 0; i < count; i++) parts.push(this.chance(0.8) ? this.pick(HOSTILE_ATOMS) : `w${this.int(1000)}`)
    let text = parts.join('')
    if (this.chance(0.03)) text = text.repeat(Math.ceil(20_000 / Math.max(1, text.length)))
    return text
  }

  /** A list of distinct hostile strings (key names). */
  strings(max: number): string[] {
    return [...new Set(Array.from({length: this.int(max + 1)}, () => this.string()))]
  }
}

import {inline} from './sync-text.js'

/**
 * GitHub drops a step summary larger than 1 MiB as a whole (the job page then shows none). The renderers keep
 * theirs well under it, with room left for a second summary of the same step (a failure after a partial report).
 */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024
export const STEP_SUMMARY_BUDGET_BYTES = 900 * 1024

// Backslash-escaping these keeps cells in their column and keeps names and errors from turning into markup.
export const md = (text: string): string => inline(text).replace(/[\\`*_[\]<>|&~]/g, '\\$&')
export const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

/**
 * A Markdown document built block by block under a byte budget. The head (title, counts) is always written; the
 * detail (per-target tables) stops at the first block or row that would not fit, and `cut` records what was left
 * out so the summary can say so. Blocks are separated by a blank line, table rows by a newline.
 */
export class CappedMarkdown {
  private readonly parts: string[] = []
  private used = 0
  private cutAt: string | undefined

  /** `reserve`: bytes kept free for the line saying what was cut. */
  constructor(
    private readonly budget: number,
    private readonly reserve = 2048,
  ) {}

  get isCut(): boolean {
    return this.cutAt !== undefined
  }

  /** Always written, whatever the budget: the part a reader must never lose. */
  head(block: string): void {
    this.append(`${this.parts.length > 0 ? '\n\n' : ''}${block}`)
  }

  /** Written when it fits; once anything did not fit, nothing more is. Returns whether it was written. */
  block(block: string): boolean {
    return this.tryAppend(`${this.parts.length > 0 ? '\n\n' : ''}${block}`)
  }

  /** A table row continuing the last block. */
  row(line: string): boolean {
    return this.tryAppend(`\n${line}`)
  }

  /** The document, with `cutNote` (when something was cut) as its last block. */
  finish(cutNote: () => string): string {
    if (this.isCut) this.append(`\n\n${cutNote()}`)
    return `${this.parts.join('')}\n`
  }

  private tryAppend(text: string): boolean {
    if (this.isCut || this.used + bytes(text) > this.budget - this.reserve) {
      this.cutAt ??= text
      return false
    }
    this.append(text)
    return true
  }

  private append(text: string): void {
    this.parts.push(text)
    this.used += bytes(text)
  }
}

import {isExactNumber} from '../util/exact-json.js'

/**
 * Removes secret material from anything about to leave the process (logs, errors, metrics labels).
 * Two mechanisms: values registered at run time (every secret value read, every token and credential)
 * are replaced wherever they appear, and fields whose names say they hold secrets are masked whole.
 */
export const REDACTED = '[REDACTED]'

const SENSITIVE_KEY =
  /(^|[_-])(token|secret|secret_?id|password|passwd|credentials?|authorization|session_?token|secret_?access_?key|secret_?string|value|values|jwt|client_token)$/i

export class Redactor {
  private readonly secrets = new Set<string>()
  private readonly scopes = new Set<Redactor>()
  private parent: Redactor | undefined
  private closed = false

  /**
   * A redactor for what one unit of work reads (a target's current values in AWS): its values are redacted
   * everywhere, like this one's, until `close()` lets them go with the work (issue 12: a run over 1,000,000 secrets
   * would otherwise keep every value it ever read). What outlives the work must be passed through it first.
   */
  scope(): Redactor {
    const child = new Redactor()
    child.parent = this
    this.scopes.add(child)
    return child
  }

  /**
   * Ends a scope (and the scopes opened from it): its values are no longer held, nor redacted by the redactor it
   * came from. A value added to it later (a read still in flight when the work settled) goes to that redactor.
   */
  close(): void {
    this.closed = true
    this.parent?.scopes.delete(this)
    for (const scope of this.scopes) scope.close()
    this.secrets.clear()
  }

  /** Registers a string that must never be printed. Very short strings are ignored: masking them would mangle ordinary text. */
  add(secret: unknown): void {
    // A secret must never leak: after close() it is redacted for the rest of the run instead of not at all.
    if (this.closed && this.parent) this.parent.add(secret)
    else if (typeof secret === 'string' && secret.length >= 4) this.secrets.add(secret)
    // Numbers are not registered (masking "5432" would mangle every duration), whatever form they are kept in.
    else if (typeof secret === 'number' || typeof secret === 'boolean' || isExactNumber(secret)) return
    else if (secret && typeof secret === 'object') for (const value of Object.values(secret)) this.add(value)
  }

  /**
   * `text` with every occurrence of a value registered here, in its root or in any open scope replaced. The
   * occurrences are all found in `text` itself before any is replaced, so a value inside (or overlapping) another
   * is masked whole whichever was registered first, and no value is looked for in a `[REDACTED]` already put in.
   */
  redactText(text: string): string {
    // The root scans every open scope, this one included: one scan, whichever redactor is asked.
    if (this.parent) return this.parent.redactText(text)
    const found: Array<[number, number]> = []
    this.findIn(text, found)
    return found.length === 0 ? text : masked(text, found)
  }

  private findIn(text: string, found: Array<[number, number]>): void {
    for (const secret of this.secrets) {
      for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1))
        found.push([at, at + secret.length])
    }
    for (const scope of this.scopes) scope.findIn(text, found)
  }

  /** Deep copy with registered values replaced and sensitive keys masked. */
  redact<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.redactText(value) as T
    if (depth > 12 || value === null || typeof value !== 'object') return value
    if (value instanceof Error) return this.redactText(value.message) as T
    if (Array.isArray(value)) return value.map((item) => this.redact(item, depth + 1)) as T
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        SENSITIVE_KEY.test(key) && item !== null && typeof item !== 'boolean' ? REDACTED : this.redact(item, depth + 1)
    }
    return out as T
  }
}

/** `text` with each run of overlapping `[start, end)` ranges replaced by one REDACTED (ranges that only touch stay two). */
function masked(text: string, ranges: Array<[number, number]>): string {
  ranges.sort((a, b) => a[0] - b[0])
  let out = ''
  let from = 0
  let [start, end] = ranges[0] as [number, number]
  for (const [nextStart, nextEnd] of ranges) {
    if (nextStart < end) end = Math.max(end, nextEnd)
    else {
      out += `${text.slice(from, start)}${REDACTED}`
      from = end
      ;[start, end] = [nextStart, nextEnd]
    }
  }
  return `${out}${text.slice(from, start)}${REDACTED}${text.slice(end)}`
}

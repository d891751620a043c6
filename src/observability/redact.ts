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

  /** Ends a scope: its values are no longer held, nor redacted by the redactor it came from. */
  close(): void {
    this.parent?.scopes.delete(this)
    this.secrets.clear()
  }

  /** Registers a string that must never be printed. Very short strings are ignored: masking them would mangle ordinary text. */
  add(secret: unknown): void {
    if (typeof secret === 'string' && secret.length >= 4) this.secrets.add(secret)
    // Numbers are not registered (masking "5432" would mangle every duration), whatever form they are kept in.
    else if (typeof secret === 'number' || typeof secret === 'boolean' || isExactNumber(secret)) return
    else if (secret && typeof secret === 'object') for (const value of Object.values(secret)) this.add(value)
  }

  redactText(text: string): string {
    const own = this.redactOwn(text)
    if (this.parent) return this.parent.redactText(own)
    let out = own
    for (const scope of this.scopes) out = scope.redactOwn(out)
    return out
  }

  private redactOwn(text: string): string {
    let out = text
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
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

export type InterpolationResult = {ok: true; value: string} | {ok: false; variable: string}

// `$${...}` is an escape for a literal `${...}`; `${VAR}` needs VAR set; `${VAR:-default}` falls back.
const reference = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}\n]*))?\}/g

/** Replaces `${VAR}` / `${VAR:-default}` in one string, in one pass; reports the first unset variable without a default. */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): InterpolationResult {
  let missing: string | undefined
  const value = text.replace(reference, (whole, escape: string, name: string, fallback: string | undefined) => {
    if (escape) return whole.slice(1)
    const found = env[name]
    // Like the shell's `:-`, an empty variable also takes the default.
    if (found !== undefined && (found !== '' || fallback === undefined)) return found
    if (fallback !== undefined) return fallback
    missing ??= name
    return ''
  })
  return missing === undefined ? {ok: true, value} : {ok: false, variable: missing}
}

/** A `${…}` or `$${…}` as written in the config text. */
export interface Reference {
  offset: number
  text: string
  /** The variable it names. */
  variable: string
}

/**
 * Stands in for a reference while YAML parses the text (`${` is not valid YAML in flow collections). U+0001 may
 * not appear raw in a YAML file (the loader refuses it), so only a double-quoted `\x01` escape can produce it,
 * and {@link substituteReferences} refuses a scalar where that happens next to a reference.
 */
export const SENTINEL = '\u0001'

/** Each reference becomes a run of SENTINEL of the same length, so lines and columns stay exact. */
export function maskReferences(text: string): {masked: string; references: Reference[]} {
  const references: Reference[] = []
  const masked = text.replace(
    reference,
    (whole: string, _escape: string, variable: string, _fallback: unknown, offset: number) => {
      references.push({offset, text: whole, variable})
      return SENTINEL.repeat(whole.length)
    },
  )
  return {masked, references}
}

export type SubstitutionResult =
  | {ok: true; value: string; used: Array<{variable: string; value: string}>}
  | {ok: false; variable: string; reason: 'unset' | 'forged'}

/**
 * Puts each reference of one parsed scalar back as its variable's value, in source order. The values are
 * inserted as text, once: they are never parsed as YAML nor scanned for references again. Every SENTINEL in
 * the value must belong to one of the scalar's references, else the scalar is refused ('forged').
 */
export function substituteReferences(
  value: string,
  references: readonly Reference[],
  env: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  const used: Array<{variable: string; value: string}> = []
  let out = ''
  let next = 0
  let index = 0
  while (index < value.length) {
    const at = value.indexOf(SENTINEL, index)
    if (at < 0) break
    out += value.slice(index, at)
    const ref = references[next]
    if (ref === undefined || value.slice(at, at + ref.text.length) !== SENTINEL.repeat(ref.text.length)) {
      return {ok: false, variable: ref?.variable ?? references.at(-1)?.variable ?? '', reason: 'forged'}
    }
    const result = interpolate(ref.text, env)
    if (!result.ok) return {ok: false, variable: result.variable, reason: 'unset'}
    if (!ref.text.startsWith('$$')) used.push({variable: ref.variable, value: result.value})
    out += result.value
    next++
    index = at + ref.text.length
  }
  const last = references[next]
  if (last !== undefined) return {ok: false, variable: last.variable, reason: 'forged'}
  return {ok: true, value: out + value.slice(index), used}
}

export type InterpolationResult = {ok: true; value: string} | {ok: false; variable: string}

// `$${...}` is an escape for a literal `${...}`; `${VAR}` needs VAR set; `${VAR:-default}` falls back.
const reference = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** Replaces `${VAR}` / `${VAR:-default}` in one string; reports the first unset variable without a default. */
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

export const hasReference = (text: string): boolean => /\$\{[A-Za-z_]/.test(text)

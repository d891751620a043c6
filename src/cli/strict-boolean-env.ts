import {UsageError} from '../errors.js'

// oclif reads a boolean flag's variable with `isTruthy`: anything but 1/true/y/yes is false, so
// `SECRETSYNC_DRY_RUN=on` (or a typo) would silently apply. Only words that clearly say yes or no are taken.
const BOOLEAN_WORDS = new Set(['1', 'true', 'y', 'yes', '0', 'false', 'n', 'no'])

interface FlagDefinition {
  type: string
  env?: string
}

/**
 * Refuses (exit 2, before anything is contacted) a set SECRETSYNC_* variable of a boolean flag whose value is not
 * a boolean word. An empty variable counts as unset. The value is not echoed: it is whatever the user put there.
 */
export function checkBooleanFlagEnv(
  flags: Readonly<Record<string, FlagDefinition>>,
  env: Readonly<Record<string, string | undefined>>,
): void {
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.type !== 'boolean' || flag.env === undefined) continue
    const value = env[flag.env]
    if (value === undefined || value.trim() === '') continue
    if (!BOOLEAN_WORDS.has(value.trim().toLowerCase())) {
      throw new UsageError(
        `${flag.env} (for --${name}) must be true or false (also 1/0, yes/no, y/n); its value is neither`,
        {
          code: 'BAD_BOOLEAN_ENV',
          hint: `Set ${flag.env}=true or ${flag.env}=false, or unset it.`,
        },
      )
    }
  }
}

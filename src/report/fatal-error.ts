import {ConfigError, ExitCode, SecretSyncError, errorCodeOf, exitCodeOf} from '../errors.js'
import {escapeUntrusted} from '../util/untrusted-text.js'

// oclif colours its own parse errors on a terminal.
const SGR = new RegExp(String.raw`\u001b\[[0-9;]*m`, 'g')

/**
 * An error message names keys, targets and AWS or Vault error texts: it is escaped as one field, so a hostile
 * name can neither drive the terminal nor forge a line. Messages that are lines by design (a config error listing
 * its problems, oclif's usage errors) are escaped line by line: still no control character and no command.
 */
export function renderErrorMessage(error: Error, isParseError = false): string {
  if (error instanceof ConfigError || isParseError)
    return error.message.replace(SGR, '').split('\n').map(escapeUntrusted).join('\n')
  return escapeUntrusted(error.message)
}

/** A run that ended on an error, as every host reports it: the CLI on stderr and in `--json`, the Action too. */
export interface FatalError {
  exitCode: ExitCode
  /** Stable code (`CONFIG_INVALID`, `USAGE`, `INTERNAL` ...). */
  code: string
  /** Escaped for a terminal or a log: see `renderErrorMessage`. */
  message: string
  hint: string | undefined
}

export function describeFatal(error: Error, isParseError = false): FatalError {
  return {
    exitCode: isParseError ? ExitCode.usage : exitCodeOf(error),
    code: isParseError ? 'USAGE' : errorCodeOf(error),
    message: renderErrorMessage(error, isParseError),
    hint: error instanceof SecretSyncError && error.hint ? escapeUntrusted(error.hint) : undefined,
  }
}

/** `Error: …` and `Hint: …` lines, as the CLI prints them on stderr. */
export const fatalErrorText = (fatal: FatalError): string =>
  `Error: ${fatal.message}\n${fatal.hint ? `Hint: ${fatal.hint}\n` : ''}`

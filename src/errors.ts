/**
 * The one error hierarchy. Every error the CLI can end on has a stable `code` (for `--json` and for
 * people searching an error), the exit code it maps to, and a hint that tells the user what to do.
 * Messages never carry secret values, tokens or credentials.
 */

export const ExitCode = {
  success: 0,
  failure: 1,
  usage: 2,
  partial: 3,
  changes: 4,
  /** 128 + signal number, as shells report a process ended by that signal (docs/design.md §4 Signals). */
  interrupted: 130,
  terminated: 143,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** What each exit code means to a user; codes that share a meaning are listed together in the help. */
const EXIT_CODE_MEANINGS: Record<keyof typeof ExitCode, string> = {
  success: 'success',
  failure: 'failure (nothing applied, or the run aborted)',
  usage: 'usage or config error (nothing contacted)',
  partial: 'partial failure (some targets or secrets failed, the rest applied)',
  changes: 'changes detected (only with --exit-code)',
  interrupted: 'stopped by SIGINT/SIGTERM (in-flight calls finished, applied records written, locks released)',
  terminated: 'stopped by SIGINT/SIGTERM (in-flight calls finished, applied records written, locks released)',
}

/** The help's EXIT CODES section, generated from the `ExitCode` map so the two cannot drift apart. */
export function exitCodesHelp(): string {
  const byMeaning = new Map<string, number[]>()
  for (const [name, code] of Object.entries(ExitCode) as Array<[keyof typeof ExitCode, ExitCode]>) {
    const meaning = EXIT_CODE_MEANINGS[name]
    byMeaning.set(meaning, [...(byMeaning.get(meaning) ?? []), code])
  }
  return ['EXIT CODES', ...[...byMeaning].map(([meaning, codes]) => `  ${codes.join('/')}  ${meaning}`)].join('\n')
}

/** When several outcomes apply the most severe wins: 143/130 (the run was stopped), 2, 1, 3, 4, 0. */
const severity: Record<ExitCode, number> = {143: 6, 130: 5, 2: 4, 1: 3, 3: 2, 4: 1, 0: 0}

export const mostSevere = (...codes: ExitCode[]): ExitCode =>
  codes.reduce<ExitCode>((worst, code) => (severity[code] > severity[worst] ? code : worst), ExitCode.success)

export interface SecretSyncErrorOptions {
  hint?: string
  cause?: unknown
}

export class SecretSyncError extends Error {
  readonly hint?: string

  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    options: SecretSyncErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.hint = options.hint
  }
}

/** One problem found in a config file, with where it is. */
export interface ConfigIssue {
  file: string
  line?: number
  column?: number
  /** Dotted key path, e.g. `targets[1].imports[0]`. */
  path: string
  message: string
}

export const formatConfigIssue = (issue: ConfigIssue): string => {
  const where =
    issue.line === undefined ? issue.file : `${issue.file}:${issue.line}${issue.column ? `:${issue.column}` : ''}`
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`
}

/** The config file is unreadable or invalid: exit 2, nothing contacted. */
export class ConfigError extends SecretSyncError {
  constructor(
    readonly issues: ConfigIssue[],
    options: SecretSyncErrorOptions & {code?: string} = {},
  ) {
    const lines = issues.map(formatConfigIssue)
    const message =
      lines.length === 1
        ? `Invalid config: ${lines[0]}`
        : `Invalid config (${lines.length} problems):\n  ${lines.join('\n  ')}`
    super(options.code ?? 'CONFIG_INVALID', message, ExitCode.usage, {
      hint: options.hint ?? 'Fix the config file and run `secretsync validate` again.',
      cause: options.cause,
    })
  }
}

/** Flags that contradict each other or name things that do not exist: exit 2. */
export class UsageError extends SecretSyncError {
  constructor(message: string, options: SecretSyncErrorOptions & {code?: string} = {}) {
    super(options.code ?? 'USAGE', message, ExitCode.usage, options)
  }
}

/** A command whose issue has not landed yet: a clear refusal rather than fake output. */
export class NotAvailableError extends SecretSyncError {
  constructor(feature: string) {
    super('NOT_AVAILABLE', `${feature} is not available yet in this version of secretsync.`, ExitCode.failure, {
      hint: 'See CHANGELOG.md for what this version supports.',
    })
  }
}

/** A guard inside secretsync caught its own bug (a name or key it must never build): exit 1, code INTERNAL. */
export class InternalError extends SecretSyncError {
  constructor(message: string) {
    super('INTERNAL', message, ExitCode.failure, {
      hint: 'This is a secretsync bug; please report it with the log (run again with SECRETSYNC_DEBUG=1 for the stack).',
    })
  }
}

/** Maps anything thrown to an exit code; unknown errors are failures. */
export const exitCodeOf = (error: unknown): ExitCode =>
  error instanceof SecretSyncError ? error.exitCode : ExitCode.failure

export const errorCodeOf = (error: unknown): string => (error instanceof SecretSyncError ? error.code : 'INTERNAL')

export interface OperationContext {
  runId: string
  operation: string
  /** The path or secret name the operation was about: never its value. */
  subject: string
  durationMs: number
  retries: number
}

/** `[run=<id>] <operation> <path or secret> after <ms> ms (<n> retries): <cause>` (docs/design.md §4 "Failures"). */
export const formatOperationError = (context: OperationContext, cause: string): string =>
  `[run=${context.runId}] ${context.operation} ${context.subject} after ${Math.round(context.durationMs)} ms (${context.retries} ${context.retries === 1 ? 'retry' : 'retries'}): ${cause}`

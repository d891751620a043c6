import {Command} from '@oclif/core'
import type {Surroundings} from '../composition-root.js'
import type {LogFormat, LogLevel} from '../observability/logger.js'
import {ExitCode, InternalError, SecretSyncError, exitCodesHelp, mostSevere} from '../errors.js'
import {describeFatal, fatalErrorText} from '../report/fatal-error.js'
import {escapeUntrusted, stringifyJsonSafely} from '../util/untrusted-text.js'
import {globalFlags} from './flags.js'
import {stopOnSignals, type SignalStop} from './stop-on-signals.js'
import {checkBooleanFlagEnv} from './strict-boolean-env.js'

export const EXIT_CODES_HELP = exitCodesHelp()

// Moved to src/report/fatal-error.ts (the Action reports errors the same way); re-exported for existing importers.
export {renderErrorMessage} from '../report/fatal-error.js'

/**
 * What every secretsync command shares: the global flags, the one place errors become exit codes and
 * messages, and exit codes that survive `--json` (oclif 4 drops custom codes there, so set process.exitCode).
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = globalFlags
  private signals: SignalStop | undefined

  /** Aborts when the user or the container runtime asks the command to stop; pass it into the run's Runtime. */
  protected get stopSignal(): AbortSignal {
    this.signals ??= stopOnSignals()
    return this.signals.signal
  }

  /**
   * The process a run lives in, read here and nowhere below: environment, stderr, clock, the stop signal and the
   * log flags. Every command hands this to the composition root (src/composition-root.ts).
   */
  protected surroundings(flags: {'log-level'?: LogLevel; 'log-format'?: LogFormat}): Surroundings {
    return {
      env: process.env,
      stderr: process.stderr,
      stdoutIsTTY: process.stdout.isTTY === true,
      now: Date.now,
      stop: this.stopSignal,
      logLevel: flags['log-level'],
      logFormat: flags['log-format'],
    }
  }

  override async init(): Promise<void> {
    await super.init()
    checkBooleanFlagEnv({...this.ctor.baseFlags, ...this.ctor.flags}, process.env)
    this.signals ??= stopOnSignals()
  }

  /** A run stopped by a signal ends with 143/130 whatever else happened; its partial report is already printed. */
  override async finally(error: Error | undefined): Promise<unknown> {
    const interrupted = this.signals?.exitCode
    if (interrupted !== undefined) this.setExitCode(interrupted)
    this.signals?.dispose()
    return super.finally(error)
  }

  /** Records an outcome exit code; the most severe one recorded wins. */
  protected setExitCode(code: ExitCode): void {
    const current = (typeof process.exitCode === 'number' ? process.exitCode : 0) as ExitCode
    process.exitCode = mostSevere(current, code)
  }

  /** `--json` output: exact data, with JSON escapes for what would drive a terminal or an Actions runner. */
  override logJson(json: unknown): void {
    process.stdout.write(`${stringifyJsonSafely(json)}\n`)
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own parse errors (unknown flag, bad option) are usage errors: exit 2.
    const isParseError =
      error.oclif?.exit === 2 ||
      /Parsing|Nonexistent flag|Unexpected argument|Expected --/i.test(error.name + error.message)
    const fatal = describeFatal(error, isParseError)
    this.setExitCode(fatal.exitCode)
    if (this.jsonEnabled()) {
      this.logJson({
        error: {
          code: fatal.code,
          message: error.message,
          hint: (error instanceof SecretSyncError ? error.hint : undefined) ?? null,
          exit_code: fatal.exitCode,
        },
      })
      return
    }
    process.stderr.write(fatalErrorText(fatal))
    if (
      (!(error instanceof SecretSyncError) || error instanceof InternalError) &&
      !isParseError &&
      process.env.SECRETSYNC_DEBUG
    ) {
      process.stderr.write(`${(error.stack ?? '').split('\n').map(escapeUntrusted).join('\n')}\n`)
    }
  }
}

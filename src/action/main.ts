import {createWriteStream} from 'node:fs'
import {join} from 'node:path'
import {chdir} from 'node:process'
import {finished} from 'node:stream/promises'
import type {Surroundings} from '../composition-root.js'
import {ExitCode, InternalError, SecretSyncError, UsageError, mostSevere} from '../errors.js'
import {stopOnSignals} from '../cli/stop-on-signals.js'
import {runPipelineReport, type PipelineReport} from '../pipeline/run-pipeline-report.js'
import {describeFatal, fatalErrorText, type FatalError} from '../report/fatal-error.js'
import {reportGithubFailure} from '../report/render-pipeline.js'
import {writeGithubFiles} from '../report/sync-github.js'
import {escapeUntrusted} from '../util/untrusted-text.js'
import {readActionInputs} from './inputs.js'

/**
 * The GitHub Action's host, as BaseCommand is the CLI's: the one place that reads the process (inputs from
 * `INPUT_*`, the environment, stdout/stderr, signals) and hands it to the same `runPipelineReport` as
 * `secretsync pipeline`. Bundled into action/dist/index.js (`npm run build:action`); nothing is installed or
 * built when the action runs, and oclif is not part of it.
 */
async function runAction(): Promise<ExitCode> {
  const env = process.env
  const signals = stopOnSignals()
  let note: string | undefined
  let dryRun: boolean | undefined
  let exitCode: ExitCode
  let reportFile: string | undefined
  try {
    const inputs = readActionInputs(env)
    note = inputs.dryRunNote
    dryRun = inputs.dryRun
    enterWorkingDirectory(inputs.workingDirectory)
    const surroundings: Surroundings = {
      env,
      stderr: process.stderr,
      stdoutIsTTY: false,
      now: Date.now,
      stop: signals.signal,
      logLevel: inputs.logLevel,
      logFormat: inputs.logFormat,
    }
    const report = await runPipelineReport(inputs.request, surroundings)
    try {
      await report.print(process.stdout)
      exitCode = report.exitCode
      // The whole JSON report, for the `report-file` output (to upload as an artifact): a cut step summary points
      // there. Not with show-values: the file would hold the values, and an artifact outlives the log.
      if (env.RUNNER_TEMP && !inputs.request.showValues) {
        const file = join(env.RUNNER_TEMP, `secretsync-report-${report.runId}.json`)
        try {
          await writeReportFile(file, report)
          reportFile = file
        } catch (writeError) {
          // The run itself is reported (stdout, summary); the step still gets its outputs, without `report-file`.
          process.stderr.write(
            `Error: could not write the report file ${escapeUntrusted(file)}: ${escapeUntrusted(String(writeError))}\n`,
          )
          exitCode = mostSevere(exitCode, ExitCode.failure)
        }
      }
    } finally {
      report.close()
    }
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught))
    const fatal = inActionTerms(describeFatal(error))
    process.stderr.write(fatalErrorText(fatal))
    // RUNNER_DEBUG is set when the run is re-run with debug logging.
    if (
      (!(error instanceof SecretSyncError) || error instanceof InternalError) &&
      (env.SECRETSYNC_DEBUG || env.RUNNER_DEBUG === '1')
    ) {
      process.stderr.write(`${(error.stack ?? '').split('\n').map(escapeUntrusted).join('\n')}\n`)
    }
    exitCode = fatal.exitCode
    try {
      process.stdout.write(await reportGithubFailure(fatal, env, note))
    } catch (writeError) {
      process.stderr.write(`Error: could not write the step summary: ${escapeUntrusted(String(writeError))}\n`)
    }
  }
  exitCode = mostSevere(exitCode, signals.exitCode ?? ExitCode.success)
  signals.dispose()
  const outputs: Record<string, string> = {'exit-code': String(exitCode)}
  if (dryRun !== undefined) outputs['dry-run'] = String(dryRun)
  if (reportFile !== undefined) outputs['report-file'] = reportFile
  try {
    await writeGithubFiles({summaryMarkdown: '', outputs}, env)
  } catch (writeError) {
    process.stderr.write(`Error: could not write the step outputs: ${escapeUntrusted(String(writeError))}\n`)
    exitCode = mostSevere(exitCode, ExitCode.failure)
  }
  return exitCode
}

/**
 * The JSON report written as it is read back, never as one string (a large plan's is hundreds of MB). The file's
 * first error (it cannot be opened, the disk is full) ends the write and is thrown: the printer may be waiting for
 * a `drain` that never comes, and an error no one awaited would end the process before the step's outputs.
 */
async function writeReportFile(file: string, report: PipelineReport): Promise<void> {
  const out = createWriteStream(file)
  const failed = new Promise<never>((_, reject) => out.once('error', reject))
  try {
    await Promise.race([report.printJson(out), failed])
    out.end()
    await Promise.race([finished(out), failed])
  } finally {
    out.destroy()
  }
}

/** Hints that name the CLI's flags, told in the Action's words. */
function inActionTerms(fatal: FatalError): FatalError {
  if (fatal.code !== 'CONFIG_NOT_FOUND') return fatal
  return {
    ...fatal,
    hint: 'Set the `config` input (a path relative to `working-directory`), and check the repository out first (actions/checkout).',
  }
}

/** The `working-directory` input: where the config path (and every relative path in the config) starts. */
function enterWorkingDirectory(directory: string): void {
  try {
    chdir(directory)
  } catch (error) {
    throw new UsageError(`input "working-directory": cannot enter ${JSON.stringify(directory)}`, {
      code: 'BAD_INPUT',
      hint: 'Give a directory of the checkout, relative to the workspace.',
      cause: error,
    })
  }
}

process.exitCode = await runAction()

/**
 * What bench scenarios share: the test stack in its own process, config files, one in-process pipeline run,
 * the process's peak RSS, and the one-line JSON result every scenario prints (the contract bench/run.ts reads).
 */
import {fork, spawn} from 'node:child_process'
import {createWriteStream} from 'node:fs'
import {join} from 'node:path'
import type {Surroundings} from '../src/composition-root.js'
import {runPipeline, type PipelineOutcome} from '../src/pipeline/run-pipeline.js'
import {runPipelineReport} from '../src/pipeline/run-pipeline-report.js'
import type {SyncFormat} from '../src/report/render-sync.js'
import {writeTempConfig} from '../test/support/cli.js'
import type {LatencySpec, QuotaSpec} from '../test/support/controls.js'
import type {StackFixture} from '../test/support/fixture.js'
import type {BenchTree, StackRequest} from './stack-process.js'

export type {BenchTree} from './stack-process.js'
export {benchSecret, treeKey} from './stack-process.js'

export type Calls = Record<string, Record<string, number>>

export interface Goal {
  name: string
  value: number
  limit: number
  unit?: string
  met: boolean
}

/** One row of the benchmark: what a scenario file prints, one JSON line per row, on stdout. */
export interface ScenarioResult {
  scenario: string
  seconds: number
  peakRssMiB: number
  calls: Calls
  ratios?: Record<string, number>
  goals?: Goal[]
  notes?: string[]
}

/** A goal of the form "value below limit" (or at most, with `atMost`). */
export const goalBelow = (name: string, value: number, limit: number, unit?: string): Goal => ({
  name,
  value: Math.round(value * 100) / 100,
  limit,
  ...(unit ? {unit} : {}),
  met: value < limit,
})
export const goalAtMost = (name: string, value: number, limit: number, unit?: string): Goal => ({
  ...goalBelow(name, value, limit, unit),
  met: value <= limit,
})

/** This process's resident-set high-water mark so far (the kernel's maxrss), in MiB. */
export const peakRssMiB = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10

/** Prints one result line: the whole contract between a scenario and bench/run.ts. */
export function emit(result: ScenarioResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/** A number from the environment, or the default; anything else is an error naming the variable. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`)
  return value
}

export const LATENCY_MS = envNumber('BENCH_LATENCY_MS', 5)

export interface StackProcess {
  /** The environment that points secretsync at the stack (VAULT_ADDR, AWS_ENDPOINT_URL, credentials...). */
  env: Record<string, string>
  resetCounters(): Promise<void>
  counters(): Promise<Calls>
  setLatency(spec: LatencySpec): Promise<void>
  setQuota(spec: QuotaSpec): Promise<void>
  putSecret(mount: string, key: string, data: Record<string, unknown>): Promise<void>
  /** See StackRequest `seedSecretsFile`; answers how many secrets it seeded. */
  seedSecretsFile(file: string): Promise<number>
  close(): Promise<void>
}

/**
 * Starts the test stack (test/support/stack.ts) in a child process, seeded from `fixture` plus generated `trees`
 * (built there, so the fixture's secrets never sit in this process either).
 */
export async function startStackProcess(fixture: StackFixture = {}, trees: BenchTree[] = []): Promise<StackProcess> {
  const child = fork(join(import.meta.dirname, 'stack-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let next = 0
  const pending = new Map<number, {resolve: (value: unknown) => void; reject: (error: Error) => void}>()
  child.on('message', (message: {id: number; result?: unknown; error?: string}) => {
    const waiter = pending.get(message.id)
    pending.delete(message.id)
    if (message.error !== undefined) waiter?.reject(new Error(`stack process: ${message.error}`))
    else waiter?.resolve(message.result)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error('stack process exited'))
  })
  const ask = <T>(request: StackRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++
      pending.set(id, {resolve: resolve as (value: unknown) => void, reject})
      child.send({id, request})
    })
  const env = await ask<Record<string, string>>({op: 'start', fixture, trees})
  return {
    env,
    resetCounters: () => ask({op: 'resetCounters'}),
    counters: () => ask({op: 'counters'}),
    setLatency: (spec) => ask({op: 'setLatency', spec}),
    setQuota: (spec) => ask({op: 'setQuota', spec}),
    putSecret: (mount, key, data) => ask({op: 'putSecret', mount, key, data}),
    seedSecretsFile: (file) => ask({op: 'seedSecretsFile', file}),
    close: async () => {
      child.disconnect()
      await exited
    },
  }
}

/**
 * Latency like a real region's on every service, and the documented Secrets Manager quotas: 50 writes/s
 * (Create/Put) and 100 ListSecrets/s per account-region.
 */
export async function regionLike(stack: StackProcess, latencyMs = LATENCY_MS, quotas = true): Promise<void> {
  for (const service of ['vault', 'secretsmanager', 's3', 'sts']) await stack.setLatency({service, ms: latencyMs})
  if (!quotas) return
  await stack.setQuota({service: 'secretsmanager', operation: 'CreateSecret', ratePerSecond: 50})
  await stack.setQuota({service: 'secretsmanager', operation: 'PutSecretValue', ratePerSecond: 50})
  await stack.setQuota({service: 'secretsmanager', operation: 'ListSecrets', ratePerSecond: 100})
}

export const writeConfig = (text: string): Promise<string> => writeTempConfig(text)

export interface PipelineFlags {
  dryRun?: boolean
  mergeOnly?: boolean
  syncOnly?: boolean
}

// The AWS SDK's default credential chain reads process.env itself, so the stack's credentials go there too.
export function surroundingsFor(stackEnv: Record<string, string>): Surroundings {
  Object.assign(process.env, stackEnv, {AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'})
  return {
    env: {...process.env, SECRETSYNC_SHARDS: undefined, SECRETSYNC_SHARD: undefined},
    stderr: process.stderr,
    stdoutIsTTY: false,
    now: Date.now,
    stop: new AbortController().signal,
    logLevel: 'warn',
    logFormat: 'text',
  }
}

/** One `secretsync pipeline` run in this process against the stack; what it returned and how long it took. */
export async function runPipelineOnce(
  stack: StackProcess,
  configPath: string,
  flags: PipelineFlags = {},
): Promise<{outcome: PipelineOutcome; seconds: number}> {
  const surroundings = surroundingsFor(stack.env)
  const started = performance.now()
  const outcome = await runPipeline({
    configPath,
    dryRun: flags.dryRun ?? false,
    mergeOnly: flags.mergeOnly ?? false,
    syncOnly: flags.syncOnly ?? false,
    surroundings,
  })
  return {outcome, seconds: (performance.now() - started) / 1000}
}

/**
 * One `secretsync pipeline --output <format>` run as the command makes it, output included (rendered and written
 * to `/dev/null`): what the summary said, the exit code, and how long it took. `stackEnv` may come from another
 * process's stack (StackProcess.env).
 */
export async function runPipelineReportOnce(
  stackEnv: Record<string, string>,
  configPath: string,
  flags: PipelineFlags & {format?: SyncFormat} = {},
): Promise<{exitCode: number; summary: unknown; seconds: number}> {
  const surroundings = surroundingsFor(stackEnv)
  const started = performance.now()
  const report = await runPipelineReport(
    {
      configPath,
      dryRun: flags.dryRun ?? false,
      mergeOnly: flags.mergeOnly ?? false,
      syncOnly: flags.syncOnly ?? false,
      format: flags.format ?? 'json',
      diff: false,
    },
    surroundings,
  )
  const sink = createWriteStream('/dev/null')
  await report.print(sink)
  await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())))
  return {exitCode: report.exitCode, summary: report.summary, seconds: (performance.now() - started) / 1000}
}

/** What one CLI run measured of itself (bench/cli-peak.mjs) and what it printed, as seen from the bench. */
export interface CliRun {
  exitCode: number
  seconds: number
  peakRssMiB: number
  /** Highest heapUsed sampled, and what was left after a full GC at exit, in MiB. */
  heapPeakMiB: number
  heapLiveMiB: number
  /** With BENCH_LIVE_SAMPLE_MS: the most heap live after one of the periodic full GCs, in MiB. */
  livePeakMiB?: number
  stdoutBytes: number
  /** The `summary` object of `-o json` output, when printed. */
  summary: Record<string, number> | undefined
}

const STDOUT_HEAD_BYTES = 1 << 16
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10

/**
 * Runs the built CLI (`bin/run.js` over `dist/`, what users run: no TypeScript loader in the process) with
 * `args` against the stack whose `stackEnv` is given, in a process of its own, and returns what it measured of
 * itself. Stdout is counted, not kept: only its head, for the JSON summary (printed before any target).
 */
export function runCli(stackEnv: Record<string, string>, args: readonly string[]): Promise<CliRun> {
  const root = join(import.meta.dirname, '..')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stackEnv,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SECRETSYNC_LOG_LEVEL: 'warn',
  }
  // A shard setting in the bench's own environment would run a part of the targets.
  delete env.SECRETSYNC_SHARDS
  delete env.SECRETSYNC_SHARD
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', join(import.meta.dirname, 'cli-peak.mjs'), join(root, 'bin', 'run.js'), ...args],
      {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
      },
    )
    let head = ''
    let stdoutBytes = 0
    child.stdout?.on('data', (chunk: Buffer) => {
      if (head.length < STDOUT_HEAD_BYTES) head += chunk.toString('utf8')
      stdoutBytes += chunk.length
    })
    let measured = ''
    child.stdio[3]?.on('data', (chunk: Buffer) => (measured += chunk.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000
      if (!measured) {
        reject(new Error(`secretsync ${args.join(' ')} exited with ${signal ?? code} and measured nothing`))
        return
      }
      const self = JSON.parse(measured) as {maxRssKiB: number; heapPeak: number; heapLive: number; livePeak?: number}
      const summary = /"summary": (\{[^}]*\})/.exec(head)?.[1]
      resolve({
        exitCode: code ?? 128,
        seconds,
        peakRssMiB: Math.round((self.maxRssKiB / 1024) * 10) / 10,
        heapPeakMiB: mib(self.heapPeak),
        heapLiveMiB: mib(self.heapLive),
        ...(self.livePeak === undefined ? {} : {livePeakMiB: mib(self.livePeak)}),
        stdoutBytes,
        summary: summary ? (JSON.parse(summary) as Record<string, number>) : undefined,
      })
    })
  })
}

/** A one-line account of what a run did, for a result's notes. */
export function outcomeNote(outcome: PipelineOutcome): string {
  return `exit ${outcome.exitCode}: ${JSON.stringify(outcome.result.summary)}`
}

/**
 * Runs `file` (a scenario, or a row of one) in a child process with `env` added, and returns the result lines
 * it printed. A row in its own process has its own peak RSS: nothing an earlier row held counts against it.
 */
export function runChild(file: string, env: Record<string, string> = {}): Promise<ScenarioResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
      env: {...process.env, ...env},
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => (out += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const results = out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as ScenarioResult)
      if (code !== 0 && results.length === 0)
        reject(new Error(`${file} exited with ${signal ?? code} and printed no result`))
      else resolve(results)
    })
  })
}

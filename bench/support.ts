/**
 * What bench scenarios share: the test stack in its own process, config files, one in-process pipeline run,
 * the process's peak RSS, and the one-line JSON result every scenario prints (the contract bench/run.ts reads).
 */
import {fork, spawn} from 'node:child_process'
import {createWriteStream} from 'node:fs'
import {join} from 'node:path'
import {getHeapStatistics} from 'node:v8'
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

/**
 * Node flags that give the CLI the heap Node gives itself in the examples' 512 MiB container (examples/kubernetes):
 * under a memory cgroup limit Node sizes V8's heap from the limit instead of the machine's memory. Measured with
 * Node 20 in a 512 MiB memory cgroup on this machine: heap_size_limit 259 MiB, 1 MiB semi-spaces, which these flags
 * reproduce exactly. On this 24 GiB host the limit is 4 GiB instead, and V8 then lets garbage grow to about four
 * times the live heap before a full collection (its heap growing factor rises with the heap limit).
 */
export const CONTAINER_512_MIB_FLAGS = '--max-old-space-size=256 --max-semi-space-size=1'

/**
 * The peak RSS goal's name for a row run with `flags`: with none, the heap limit V8 took from this machine's memory
 * is named, since the peak there is mostly garbage V8 lets grow in proportion to that limit (README, Benchmark).
 */
export const peakRssGoalName = (flags: string): string =>
  flags === ''
    ? `peak RSS (V8 heap limit ${Math.round(getHeapStatistics().heap_size_limit / 1048576)} MiB)`
    : 'peak RSS'

/**
 * The processes a memory row runs in, by name: `BENCH_RUNTIMES=host,container` (the default: both), or
 * `cgroup:<dir>` to run the CLI inside an existing memory cgroup (its pid is written to `<dir>/cgroup.procs`
 * before it starts; needs the rights to), which checks `container` against a real limit.
 */
export const RUNTIMES = (process.env.BENCH_RUNTIMES ?? 'host,container').split(',').map((name) => {
  if (name === 'host') return {name, label: '', flags: ''}
  // Only the heap is as in the container: nothing limits the process, so a run over 512 MiB is reported, not killed.
  if (name === 'container') return {name, label: ', V8 heap as in a 512 MiB container', flags: CONTAINER_512_MIB_FLAGS}
  if (name.startsWith('cgroup:'))
    return {name, label: `, in memory cgroup ${name.slice(7)}`, flags: '', cgroup: name.slice(7)}
  throw new Error(`BENCH_RUNTIMES: unknown runtime "${name}" (host, container, cgroup:<dir>)`)
})

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
export function runCli(
  stackEnv: Record<string, string>,
  args: readonly string[],
  nodeFlags = '',
  cgroup?: string,
): Promise<CliRun> {
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
    const command = [
      process.execPath,
      '--expose-gc',
      ...nodeFlags.split(' ').filter(Boolean),
      '--import',
      join(import.meta.dirname, 'cli-peak.mjs'),
      join(root, 'bin', 'run.js'),
      ...args,
    ]
    // In a cgroup: a shell joins it, then becomes the CLI (exec), so the CLI's whole life is inside it.
    const [file, ...argv] = cgroup
      ? ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...command]
      : command
    const child = spawn(file as string, argv, {cwd: root, env, stdio: ['ignore', 'pipe', 'inherit', 'pipe']})
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

/** A CLI run's heap figures, for a result's notes. */
export const cliNote = (run: CliRun): string =>
  `heapUsed peak ${run.heapPeakMiB} MiB, live after the run and a GC ${run.heapLiveMiB} MiB; ${run.stdoutBytes} bytes printed` +
  (run.livePeakMiB === undefined ? '' : `; most heap live after a periodic GC ${run.livePeakMiB} MiB`)

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

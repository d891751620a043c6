/**
 * Bench scenario: the Vault walk against a plain reference client (issue 12). The same tree in the test Vault,
 * walked by secretsync's walker (node-vault client, breaker, retry, metrics, session, exact-JSON re-read, the
 * walk's own books) and by a reference that only does what any client must: keep-alive HTTP GETs of the same
 * LISTs and reads at the same concurrency, each body parsed as JSON. Goals: the walk makes exactly F LISTs and
 * S reads, and takes at most 1.1× the reference's time. Prints one JSON line (the bench/run.ts contract).
 *
 *   BENCH_WALK_SECRETS=5000 BENCH_WALK_FOLDER_SIZE=50 BENCH_VAULT_CONCURRENCY=16 BENCH_LATENCY_MS=5 \
 *     BENCH_WALK_ROUNDS=7 BENCH_WALK_STACK=process tsx bench/scenarios/vault-walk.ts
 *
 * Rounds alternate walk and reference after one warm-up of each; the ratio is of the medians, so a burst of
 * load from elsewhere on the machine moves both sides rather than one.
 *
 * The test Vault runs in a process of its own (BENCH_WALK_STACK=process, the default), as Vault does for a real
 * walk: in the scenario's process (BENCH_WALK_STACK=inprocess) its per-request work (routing, the KV store, the
 * latency timer, serialising the answer) runs on the clients' event loop, between a client's answers and its
 * next requests, so each request's wait includes the server's work for the other requests in flight, and both
 * clients' times (and the CPU figure) measure the test server as much as the client. The CPU ratio is then of the
 * clients alone.
 */
import {Agent, request} from 'node:http'
import {Writable} from 'node:stream'
import pLimit from 'p-limit'
import {createLogger} from '../../src/observability/logger.js'
import {createMetrics} from '../../src/observability/metrics.js'
import {Redactor} from '../../src/observability/redact.js'
import {createBreakers} from '../../src/resilience/breakers.js'
import {connectVault} from '../../src/vault/vault-client.js'
import {walkVaultTree} from '../../src/vault/walk.js'
import {startTestStack} from '../../test/support/stack.js'
import {
  emit,
  envNumber,
  LATENCY_MS,
  peakRssMiB,
  startStackProcess,
  type Calls,
  type ScenarioResult,
} from '../support.js'

const SECRETS = envNumber('BENCH_WALK_SECRETS', 5000)
const FOLDER_SIZE = envNumber('BENCH_WALK_FOLDER_SIZE', 50)
const CONCURRENCY = envNumber('BENCH_VAULT_CONCURRENCY', 16)
const ROUNDS = Math.max(1, envNumber('BENCH_WALK_ROUNDS', 7))
const STACK = process.env.BENCH_WALK_STACK ?? 'process'
if (STACK !== 'process' && STACK !== 'inprocess')
  throw new Error(`BENCH_WALK_STACK must be process or inprocess, got "${STACK}"`)
const RATIO_LIMIT = 1.1

// Two levels of folders: bench/gNN/fNNN/sNNNNNN, so the walk lists the root, the groups and the leaves.
const LEAVES = Math.max(1, Math.ceil(SECRETS / FOLDER_SIZE))
const GROUPS = Math.max(1, Math.round(Math.sqrt(LEAVES)))
const secrets: Record<string, Record<string, unknown>> = {}
for (let i = 0; i < SECRETS; i++) {
  const leaf = i % LEAVES
  const path = `bench/g${String(leaf % GROUPS).padStart(3, '0')}/f${String(leaf).padStart(4, '0')}/s${String(i).padStart(6, '0')}`
  secrets[`secret/${path}`] = {user: `u${i}`, password: `p${i}-${'x'.repeat(32)}`, port: 5432 + (i % 7)}
}
const FOLDERS = 1 + GROUPS + LEAVES

/** The test Vault, wherever it runs: its address and token, its call counters, and how to stop it. */
interface WalkStack {
  url: string
  token: string
  resetCounters(): Promise<void>
  counters(): Promise<Calls>
  close(): Promise<void>
}

async function startStack(): Promise<WalkStack> {
  if (STACK === 'process') {
    const child = await startStackProcess({vault: {secrets}})
    await child.setLatency({service: 'vault', ms: LATENCY_MS})
    return {
      url: child.env.VAULT_ADDR as string,
      token: child.env.VAULT_TOKEN as string,
      resetCounters: () => child.resetCounters(),
      counters: () => child.counters(),
      close: () => child.close(),
    }
  }
  const local = await startTestStack({vault: {secrets}})
  local.controls.setLatency({service: 'vault', ms: LATENCY_MS})
  return {
    url: local.vault.url,
    token: local.vault.rootToken,
    resetCounters: async () => local.controls.resetCounters(),
    counters: async () => local.controls.snapshot(),
    close: () => local.close(),
  }
}

const stack = await startStack()
const token = stack.token
const base = new URL(stack.url)

/** CPU seconds of this process since `start` (with BENCH_WALK_STACK=inprocess, the test Vault's too). */
const cpuSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1e6
}

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done()
    },
  })

/** secretsync's walk as a run makes it: default breaker settings, metrics on, info-level logging. */
async function productWalk(): Promise<{seconds: number; cpuSeconds: number; lists: number; reads: number}> {
  const redactor = new Redactor()
  const logger = createLogger({level: 'info', format: 'json', redactor, runId: 'bench', stream: sink()})
  const breakers = createBreakers(
    {enabled: true, failure_threshold: 5, window: 10_000, timeout: 30_000, max_requests: 1},
    {logger},
  )
  const cpu = process.cpuUsage()
  const started = performance.now()
  const reader = await connectVault({
    config: {
      address: stack.url,
      namespace: '',
      auth: {method: 'token', token},
      concurrency: CONCURRENCY,
      timeout: 30_000,
    },
    logger,
    redactor,
    env: {},
    retry: {maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 20_000},
    breakers,
    metrics: createMetrics(),
  })
  const result = await walkVaultTree(reader, {
    mount: 'secret/',
    root: 'bench/',
    maxSecrets: SECRETS + 1,
    maxDepth: 20,
    compactionThreshold: 1000,
    limit: pLimit(CONCURRENCY),
    logger,
  })
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = cpuSince(cpu)
  breakers.shutdown()
  if (result.secrets.size !== SECRETS) throw new Error(`walk read ${result.secrets.size} of ${SECRETS} secrets`)
  return {seconds, cpuSeconds, lists: result.stats.lists, reads: result.stats.reads}
}

/** The reference: BFS over the same tree, C keep-alive GETs at a time, reads before lists, bodies parsed as JSON. */
async function referenceWalk(): Promise<{seconds: number; cpuSeconds: number; lists: number; reads: number}> {
  const agent = new Agent({keepAlive: true, maxSockets: CONCURRENCY})
  const get = (path: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = request(
        {host: base.hostname, port: base.port, path, agent, headers: {'X-Vault-Token': token}},
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          })
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end()
    })
  const cpu = process.cpuUsage()
  const started = performance.now()
  let lists = 0
  let reads = 0
  const folders: string[] = ['bench/']
  const keys: string[] = []
  const found: Record<string, unknown>[] = []
  let inFlight = 0
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < CONCURRENCY) {
        const key = keys.shift()
        const folder = key === undefined ? folders.shift() : undefined
        if (key === undefined && folder === undefined) break
        inFlight++
        const work =
          key !== undefined
            ? get(`/v1/secret/data/${key}`).then((body) => {
                reads++
                found.push((body as {data: {data: Record<string, unknown>}}).data.data)
              })
            : get(`/v1/secret/metadata/${(folder as string).replace(/\/$/, '')}?list=true`).then((body) => {
                lists++
                for (const entry of (body as {data: {keys: string[]}}).data.keys)
                  (entry.endsWith('/') ? folders : keys).push(`${folder as string}${entry}`)
              })
        work.then(() => {
          inFlight--
          if (inFlight === 0 && keys.length === 0 && folders.length === 0) resolve()
          else pump()
        }, reject)
      }
    }
    pump()
  })
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = cpuSince(cpu)
  agent.destroy()
  if (found.length !== SECRETS) throw new Error(`reference read ${found.length} of ${SECRETS} secrets`)
  return {seconds, cpuSeconds, lists, reads}
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

await productWalk()
await referenceWalk()
const walkTimes: number[] = []
const referenceTimes: number[] = []
const walkCpu: number[] = []
const referenceCpu: number[] = []
let walkCalls = {list: 0, read: 0, other: 0}
let referenceCalls = {list: 0, read: 0, all: 0}
// The test Vault's own counts of what each client asked for.
const vaultCalls = async (): Promise<{list: number; read: number; all: number}> => {
  const vault = (await stack.counters()).vault ?? {}
  const all = Object.values(vault).reduce((sum, n) => sum + n, 0)
  return {list: vault.list ?? 0, read: vault.read ?? 0, all}
}
for (let round = 0; round < ROUNDS; round++) {
  await stack.resetCounters()
  const walked = await productWalk()
  walkTimes.push(walked.seconds)
  walkCpu.push(walked.cpuSeconds)
  const counted = await vaultCalls()
  walkCalls = {list: counted.list, read: counted.read, other: counted.all - counted.list - counted.read}
  await stack.resetCounters()
  const referenced = await referenceWalk()
  referenceTimes.push(referenced.seconds)
  referenceCpu.push(referenced.cpuSeconds)
  referenceCalls = await vaultCalls()
}
await stack.close()

const walkSeconds = median(walkTimes)
const referenceSeconds = median(referenceTimes)
const ratio = walkSeconds / referenceSeconds
const row: ScenarioResult = {
  scenario: `vault walk: ${SECRETS} secrets in ${FOLDERS} folders, concurrency ${CONCURRENCY}, ${LATENCY_MS} ms per call${STACK === 'inprocess' ? ', test Vault in process' : ''}`,
  seconds: walkSeconds,
  peakRssMiB: peakRssMiB(),
  calls: {vault: {list: walkCalls.list, read: walkCalls.read, login: walkCalls.other}},
  ratios: {
    walkVsReference: ratio,
    referenceSeconds,
    cpuWalkVsReference: median(walkCpu) / median(referenceCpu),
    secondsPerRequest: walkSeconds / (FOLDERS + SECRETS),
  },
  goals: [
    {name: 'walk time / reference time', value: ratio, limit: RATIO_LIMIT, met: ratio <= RATIO_LIMIT},
    {name: 'LIST calls (F folders)', value: walkCalls.list, limit: FOLDERS, met: walkCalls.list === FOLDERS},
    {name: 'read calls (S secrets)', value: walkCalls.read, limit: SECRETS, met: walkCalls.read === SECRETS},
  ],
  notes: [
    `walk seconds per round: ${walkTimes.map((t) => t.toFixed(3)).join(', ')}`,
    `reference seconds per round: ${referenceTimes.map((t) => t.toFixed(3)).join(', ')}`,
    `reference calls: ${referenceCalls.list} LISTs + ${referenceCalls.read} reads`,
    'walk time includes its login (token lookup-self), as in a run',
    STACK === 'process'
      ? 'test Vault in its own process: the CPU ratio is of the clients alone'
      : 'test Vault in this process: its work is on the clients event loop and in the CPU ratio',
  ],
}
emit(row)

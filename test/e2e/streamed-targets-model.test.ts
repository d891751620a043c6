import {afterAll, describe, expect, it} from 'vitest'
import {runCli, writeTempConfig} from '../support/cli.js'
import {seededRandom} from '../support/controls.js'
import {parseJsonOutput, pipelineConfigText, secretsManagerWrites} from '../support/e2e.js'
import {startTestStack, type TestStack} from '../support/stack.js'

// Model-based check of the streamed pipeline (targets merged, snapshotted and synced level by level, an imported
// target's state released once no later importer needs it): random sources, random import graphs of targets
// importing sources and other targets (chains, diamonds), random overrides. The oracle below merges by
// docs/design.md §4 on plain JS values, written separately from src/merge/deep-merge.ts.

const REGION = 'us-east-1'
const BUCKET = 'merge-store'
const ACCOUNTS = ['111111111111', '222222222222', '333333333333']
// Picked for spread: 2 sources / 4 targets, 4 / 10, 3 / 9, 4 / 8.
const SEEDS = [8, 20, 13, 2024]
const KEYS = ['alpha', 'beta', 'gamma', 'list', 'nested', 'flag']
const PATHS = ['app/db', 'app/api', 'shared/tls', 'svc/a/key', 'svc/b/key', 'ops/token']
const LIST_MODES = ['append', 'append_unique', 'replace'] as const

type Json = string | number | boolean | null | Json[] | {[key: string]: Json}
type Secret = {[key: string]: Json}
type ListMode = (typeof LIST_MODES)[number]

interface TargetModel {
  name: string
  account: string
  imports: string[]
  overrides: Secret
}

interface Model {
  seed: number
  mode: ListMode
  sources: Map<string, Map<string, Secret>>
  /** In config order (shuffled, so config order is not topological order). */
  targets: TargetModel[]
}

interface SyncJson {
  summary: Record<string, number>
  targets: Array<{name: string; status: string; error: string | null}>
}

// ---- the model -------------------------------------------------------------------------------------------------

function generate(seed: number): Model {
  const random = seededRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  const subset = <T>(items: readonly T[], min: number): T[] => {
    const shuffled = [...items].sort(() => random() - 0.5)
    return shuffled.slice(0, Math.min(items.length, min + int(items.length - min + 1)))
  }
  const scalar = (allowNull: boolean): Json => {
    const roll = int(allowNull ? 5 : 4)
    if (roll === 0) return `v${int(5)}`
    if (roll === 1) return int(100)
    if (roll === 2) return random() < 0.5
    if (roll === 3) return [`x${int(3)}`, int(3)].slice(0, 1 + int(2))
    return null
  }
  const value = (depth: number, allowNull: boolean): Json =>
    depth > 0 && random() < 0.3 ? object(depth - 1, allowNull) : scalar(allowNull)
  const object = (depth: number, allowNull: boolean): Secret => {
    const out: Secret = {}
    for (const key of subset(KEYS, 1)) out[key] = value(depth, allowNull)
    return out
  }

  const sources = new Map<string, Map<string, Secret>>()
  const sourceCount = 2 + int(3)
  for (let s = 0; s < sourceCount; s++) {
    const secrets = new Map<string, Secret>()
    for (const path of subset(PATHS, 1)) secrets.set(path, object(2, true))
    sources.set(`src${s}`, secrets)
  }
  const targetCount = 4 + int(7)
  const targets: TargetModel[] = []
  for (let t = 0; t < targetCount; t++) {
    // Earlier targets only, so the graph is acyclic; later targets often import several (diamonds, chains).
    const earlier = targets.map((target) => target.name)
    const candidates = [...sources.keys(), ...earlier]
    let imports = subset(candidates, 1).slice(0, 4)
    if (earlier.length > 0 && random() < 0.6 && !imports.some((name) => earlier.includes(name)))
      imports = [...imports, pick(earlier)]
    targets.push({
      name: `t${t}`,
      account: pick(ACCOUNTS),
      imports,
      overrides: random() < 0.6 ? object(1, false) : {},
    })
  }
  return {seed, mode: pick(LIST_MODES), sources, targets: [...targets].sort(() => random() - 0.5)}
}

// ---- the oracle: §4 merge on plain values ----------------------------------------------------------------------

const isObject = (value: Json | undefined): value is Secret =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const sortedText = (value: Json): string =>
  JSON.stringify(value, (_key, inner: Json) =>
    isObject(inner)
      ? Object.fromEntries(
          Object.keys(inner)
            .sort()
            .map((key) => [key, inner[key]]),
        )
      : inner,
  )

function mergeLists(earlier: Json[], later: Json[], mode: ListMode): Json[] {
  if (mode === 'replace') return structuredClone(later)
  if (mode === 'append') return structuredClone([...earlier, ...later])
  const seen = new Set(earlier.map(sortedText))
  const out = structuredClone(earlier)
  for (const item of later) {
    if (seen.has(sortedText(item))) continue
    seen.add(sortedText(item))
    out.push(structuredClone(item))
  }
  return out
}

function mergeInto(earlier: Secret, later: Secret, mode: ListMode): Secret {
  const out = structuredClone(earlier)
  for (const [key, next] of Object.entries(later)) {
    const before = earlier[key]
    if (next === null && key in earlier) continue
    if (isObject(before) && isObject(next)) out[key] = mergeInto(before, next, mode)
    else if (Array.isArray(before) && Array.isArray(next)) out[key] = mergeLists(before, next, mode)
    else out[key] = structuredClone(next)
  }
  return out
}

/** Each target's final state: its imports in order merged per path, then its overrides into every secret. */
function oracle(model: Model): Map<string, Map<string, Secret>> {
  const done = new Map<string, Map<string, Secret>>()
  const byName = new Map(model.targets.map((target) => [target.name, target]))
  const resolve = (name: string): Map<string, Secret> => {
    const cached = done.get(name)
    if (cached) return cached
    const target = byName.get(name) as TargetModel
    const state = new Map<string, Secret>()
    for (const imported of target.imports) {
      const from = model.sources.get(imported) ?? resolve(imported)
      for (const [path, secret] of from) {
        const existing = state.get(path)
        state.set(path, existing ? mergeInto(existing, secret, model.mode) : structuredClone(secret))
      }
    }
    if (Object.keys(target.overrides).length > 0)
      for (const [path, secret] of state) state.set(path, mergeInto(secret, target.overrides, model.mode))
    done.set(name, state)
    return state
  }
  for (const target of model.targets) resolve(target.name)
  return done
}

// ---- running it ------------------------------------------------------------------------------------------------

const stacks: TestStack[] = []
afterAll(async () => Promise.all(stacks.map((stack) => stack.close())))

const configFor = (model: Model, vaultConcurrency: number, syncConcurrency: number): Promise<string> =>
  writeTempConfig(
    pipelineConfigText({
      sources: [...model.sources.keys()],
      bucket: BUCKET,
      region: REGION,
      targets: model.targets
        .map(
          (target) => `  - name: ${target.name}
    account_id: "${target.account}"
    imports: [${target.imports.join(', ')}]
    secret_prefix: ${target.name}/
${Object.keys(target.overrides).length > 0 ? `    overrides: ${JSON.stringify(target.overrides)}\n` : ''}`,
        )
        .join(''),
      extra: `merge: {lists: ${model.mode}}
sync: {concurrency: ${syncConcurrency}}
logging: {level: warn}
`,
    }).replace('  auth: {method: token}\n', `  auth: {method: token}\n  concurrency: ${vaultConcurrency}\n`),
  )

const describeModel = (model: Model): string =>
  `seed ${model.seed} (lists ${model.mode}; ${model.targets
    .map((target) => `${target.name}<-[${target.imports.join(',')}]`)
    .join(' ')})`

describe('streamed targets, model-based: random sources, import graphs and overrides', () => {
  for (const [index, seed] of SEEDS.entries()) {
    // Alternate which concurrency pair converges and which re-runs, so both do each job across the seeds.
    const settings = [
      {vault: 1, sync: 1},
      {vault: 16, sync: 32},
    ]
    const [first, second] = index % 2 === 0 ? settings : [...settings].reverse()
    it(`seed ${seed}: merge-only snapshots, then a run at vault ${first?.vault}/sync ${first?.sync} converge to the oracle and a run at vault ${second?.vault}/sync ${second?.sync} plans nothing`, async () => {
      const model = generate(seed)
      const at = describeModel(model)
      const want = oracle(model)
      const vaultSecrets: Record<string, Secret> = {}
      for (const [source, secrets] of model.sources)
        for (const [path, secret] of secrets) vaultSecrets[`secret/${source}/${path}`] = secret
      const stack = await startTestStack({vault: {secrets: vaultSecrets}, aws: {buckets: [BUCKET]}})
      stacks.push(stack)
      const env = {...stack.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'}
      const firstConfig = await configFor(model, first?.vault ?? 1, first?.sync ?? 1)
      const secondConfig = await configFor(model, second?.vault ?? 1, second?.sync ?? 1)

      // Merge only: every target's latest snapshot holds exactly the oracle's state
      const merged = await runCli(['pipeline', '-c', firstConfig, '--merge-only', '--json'], {env})
      expect(merged.code, `${at}: ${merged.stderr}`).toBe(0)
      expect(secretsManagerWrites(stack.controls), at).toBe(0)
      for (const [target, state] of want) {
        const latest = stack.aws.s3.getObject(BUCKET, `${target}/latest.json`)
        expect(latest, `${at}: ${target}/latest.json`).toBeDefined()
        const {version} = JSON.parse(latest?.body.toString() ?? '{}') as {version: number}
        const snapshot = JSON.parse(
          stack.aws.s3.getObject(BUCKET, `${target}/v${version}.json`)?.body.toString() ?? '{}',
        ) as {
          secrets: Record<string, Secret>
        }
        expect(snapshot.secrets, `${at}: snapshot of ${target}`).toEqual(Object.fromEntries(state))
      }

      // The full pipeline: exit 0, every target applied, AWS holds exactly the oracle, byte for byte
      const total = [...want.values()].reduce((sum, state) => sum + state.size, 0)
      const run = await runCli(['pipeline', '-c', firstConfig, '--json'], {env})
      const json = parseJsonOutput<SyncJson>(run)
      expect(run.code, `${at}: ${run.stderr}`).toBe(0)
      expect(json.targets.map((target) => [target.name, target.status, target.error]).sort(), at).toEqual(
        model.targets.map((target) => [target.name, 'applied', null]).sort(),
      )
      expect(json.summary, at).toMatchObject({created: total, updated: 0, deleted: 0, unchanged: 0, failed: 0})
      for (const account of ACCOUNTS) {
        const expected = new Map<string, string>()
        for (const target of model.targets.filter((entry) => entry.account === account))
          for (const [path, secret] of want.get(target.name) ?? [])
            expected.set(`${target.name}/${path}`, JSON.stringify(secret))
        expect(stack.aws.secretsManager.listNames(account, REGION), `${at}: names in ${account}`).toEqual(
          [...expected.keys()].sort(),
        )
        for (const [name, text] of expected)
          expect(stack.aws.secretsManager.getSecret(account, REGION, name)?.value, `${at}: ${name}`).toBe(text)
      }

      // Again at the other concurrencies: nothing to change, nothing written
      stack.controls.resetCounters()
      const again = await runCli(['pipeline', '-c', secondConfig, '--json'], {env})
      const againJson = parseJsonOutput<SyncJson>(again)
      expect(again.code, `${at}: ${again.stderr}`).toBe(0)
      expect(againJson.summary, at).toMatchObject({created: 0, updated: 0, deleted: 0, unchanged: total, failed: 0})
      expect(secretsManagerWrites(stack.controls), at).toBe(0)
    }, 60_000)
  }
})

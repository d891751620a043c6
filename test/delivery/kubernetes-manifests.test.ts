import {spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {ROOT} from '../support/cli.js'

// The Kubernetes examples, parsed as the API server would read them, checked against what secretsync's exit codes
// mean (README "Exit codes") and against the image (Dockerfile USER).

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are free-form
const DIR = join(ROOT, 'examples', 'kubernetes')

const documents = (text: string): Json[] =>
  parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([])
    return doc.toJSON() as Json
  })
const manifests = (file: string): Json[] => documents(readFileSync(join(DIR, file), 'utf8'))
const jobSpecOf = (file: string): Json => {
  const objects = manifests(file)
  const cron = objects.find((o) => o.kind === 'CronJob')
  return cron ? cron.spec.jobTemplate.spec : objects.find((o) => o.kind === 'Job')?.spec
}
const containerOf = (job: Json): Json => job.template.spec.containers.find((c: Json) => c.name === 'secretsync')
const envOf = (job: Json): Map<string, Json> => new Map(containerOf(job).env.map((e: Json) => [e.name, e]))

/**
 * What the Job controller does with a pod that exited `code` (podFailurePolicy rules in order, first match wins;
 * no match counts toward the backoff limit), as kubernetes.io/docs/concepts/workloads/controllers/job describes.
 */
function onExit(job: Json, code: number): string {
  for (const rule of job.podFailurePolicy?.rules ?? []) {
    const onExitCodes = rule.onExitCodes as Json | undefined
    if (!onExitCodes) continue
    if (onExitCodes.containerName !== undefined && onExitCodes.containerName !== 'secretsync') continue
    const listed = (onExitCodes.values as number[]).includes(code)
    if (onExitCodes.operator === 'In' ? listed : !listed) return rule.action
  }
  return 'Count'
}

const SECRETSYNC_EXIT = {failure: 1, usage: 2, partial: 3}

describe.each([
  ['cronjob.yaml', 'FailJob'],
  ['indexed-job.yaml', 'FailIndex'],
])('%s', (file, fail) => {
  const job = jobSpecOf(file)

  it(`retries only exit 1; exit 2 (config) and exit 3 (lasting partial failure) are ${fail} at once`, () => {
    expect(onExit(job, SECRETSYNC_EXIT.failure)).toBe('Count')
    expect(onExit(job, SECRETSYNC_EXIT.usage)).toBe(fail)
    expect(onExit(job, SECRETSYNC_EXIT.partial)).toBe(fail)
    expect(job.template.spec.restartPolicy).toBe('Never') // podFailurePolicy requires it
    // A disrupted pod (drain, eviction) is replaced without counting as a failure
    expect(job.podFailurePolicy.rules).toContainEqual({action: 'Ignore', onPodConditions: [{type: 'DisruptionTarget'}]})
  })

  it('sets nothing the AWS SDK v3 ignores, and does not hide its Node.js version warning', () => {
    const env = envOf(job)
    expect(env.has('AWS_STS_REGIONAL_ENDPOINTS')).toBe(false)
    expect(env.has('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED')).toBe(false)
  })

  it("runs as the image's numeric non-root user", () => {
    const user = /^USER\s+(\d+):(\d+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
    const security = job.template.spec.securityContext
    expect(security.runAsNonRoot).toBe(true)
    expect([security.runAsUser, security.runAsGroup]).toEqual([Number(user?.[1]), Number(user?.[2])])
  })
})

describe('indexed-job.yaml', () => {
  const job = jobSpecOf('indexed-job.yaml')

  it('shards by JOB_COMPLETION_INDEX with SECRETSYNC_SHARDS equal to completions and parallelism', () => {
    const env = envOf(job)
    expect(job.completionMode).toBe('Indexed')
    expect(Number(env.get('SECRETSYNC_SHARDS')?.value)).toBe(job.completions)
    expect(job.parallelism).toBe(job.completions)
    // Kubernetes sets JOB_COMPLETION_INDEX; SECRETSYNC_SHARD (the --shard flag's variable) would override it
    expect(env.has('SECRETSYNC_SHARD')).toBe(false)
    expect(env.has('JOB_COMPLETION_INDEX')).toBe(false)
    expect(containerOf(job).args).toContain('--sync-only')
  })

  const kubectl = spawnSync('kubectl', ['version', '--client'], {encoding: 'utf8'})
  it.skipIf(kubectl.status !== 0)(
    'kustomization.yaml derives parallelism and SECRETSYNC_SHARDS from completions (kubectl kustomize)',
    () => {
      // Given a copy of the examples where only completions changed
      const copy = mkdtempSync(join(tmpdir(), 'secretsync-k8s-'))
      cpSync(DIR, copy, {recursive: true})
      const file = join(copy, 'indexed-job.yaml')
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}completions: \d+$/m, '  completions: 7'))

      // When kustomize builds it
      const built = spawnSync('kubectl', ['kustomize', copy], {encoding: 'utf8'})

      // Then parallelism and the shard count follow, the count still a string as an env value must be
      expect(built.status, built.stderr).toBe(0)
      const [rendered] = documents(built.stdout).filter((o) => o.kind === 'Job')
      expect([rendered?.spec.completions, rendered?.spec.parallelism]).toEqual([7, 7])
      expect(envOf(rendered?.spec).get('SECRETSYNC_SHARDS')?.value).toBe('7')
      expect(rendered?.metadata.namespace).toBe('secretsync')
    },
  )
})

import {runCli, type CliResult} from './cli.js'
import type {Controls} from './controls.js'
import type {StackFixture} from './fixture.js'

/** Every Secrets Manager operation that changes state: what "no write" means in the e2e stories. */
export const SECRETS_MANAGER_WRITES = [
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecret',
  'DeleteSecret',
  'RestoreSecret',
  'TagResource',
  'UntagResource',
  'ReplicateSecretToRegions',
  'RemoveRegionsFromReplication',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
] as const

/** Calls of any Secrets Manager write operation, optionally in one account. */
export const secretsManagerWrites = (controls: Controls, account?: string): number =>
  SECRETS_MANAGER_WRITES.reduce(
    (sum, operation) => sum + controls.count({service: 'secretsmanager', operation, ...(account ? {account} : {})}),
    0,
  )

/** Parses a CLI run's JSON stdout, failing with its stderr when there is none. */
export function parseJsonOutput<T>(result: {code: number; stdout: string; stderr: string}): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`no JSON on stdout (exit ${result.code}): ${result.stderr}`)
  }
}

/**
 * The usual e2e pipeline config: token auth to the test Vault, one `secret/<name>/` mount per source, a merge store and
 * AWS at the test endpoint with the SecretSync role pattern. `targets` is the YAML under `targets:` and `extra` the YAML
 * after it (retry, logging, sync, discovery ...), each line ending in a newline.
 */
export const pipelineConfigText = ({
  sources = ['base'],
  targets,
  bucket = 'merge-store',
  region = 'us-east-1',
  extra = '',
}: {
  sources?: string[]
  targets: string
  bucket?: string
  region?: string
  extra?: string
}): string => `vault:
  address: \${VAULT_ADDR}
  auth: {method: token}
vault_sources:
${sources.map((name) => `  - {name: ${name}, mount: secret/${name}/}\n`).join('')}merge_store:
  bucket: ${bucket}
  endpoint: \${AWS_ENDPOINT_URL}
aws:
  region: ${region}
  endpoint: \${AWS_ENDPOINT_URL}
  role_pattern: arn:aws:iam::{{account_id}}:role/SecretSync
targets:
${targets}${extra}`

/** `secretsync pipeline -c <config> --json …args` in-process against `env`, with its JSON output parsed. */
export async function runPipelineJson<T>(
  env: Record<string, string>,
  config: string,
  args: readonly string[],
): Promise<CliResult & {json: T}> {
  const result = await runCli(['pipeline', '-c', config, '--json', ...args], {env})
  return {...result, json: parseJsonOutput<T>(result)}
}

/** The e2e config with the quiet log and the fast retry most stories use, then `settings` (YAML lines). */
export const quietPipelineConfigText = (targets: string, settings = '', region = 'us-east-1'): string =>
  pipelineConfigText({
    region,
    targets,
    extra: `logging: {level: warn}\nretry: {max_attempts: 2, base_delay: 10ms, max_delay: 20ms}\n${settings}`,
  })

/** Three Vault secrets under secret/base/ (two in a folder) and a merge-store bucket: the shapes stories' stack. */
export const THREE_SECRETS_STACK: StackFixture = {
  vault: {
    secrets: {
      'secret/base/db': {user: 'app', password: 'pw-1'},
      'secret/base/svc/api': {key: 'k-1'},
      'secret/base/svc/cfg': {n: 1},
    },
  },
  aws: {buckets: ['merge-store']},
}

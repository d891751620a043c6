import type {Controls} from './controls.js'

/** Every Secrets Manager operation that changes state: what "no write" means in the e2e stories. */
export const SECRETS_MANAGER_WRITES = [
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecret',
  'DeleteSecret',
  'RestoreSecret',
  'TagResource',
  'UntagResource',
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

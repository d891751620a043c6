import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {AwsServer} from './aws/aws-server.js'
import type {S3StateData} from './aws/s3-state.js'
import type {SecretsManagerStateData} from './aws/secrets-manager-state.js'

/**
 * What `npm run sandbox` keeps between invocations: the AWS side (Secrets Manager in every account-region and the
 * S3 merge store), so `npm run sandbox -- pipeline` then `npm run sandbox -- pipeline --dry-run` shows the first
 * run's result. Vault is seeded from the fixture on every start (it is the input, not the result).
 */
interface SandboxStateFile {
  format: 1
  s3: S3StateData
  secretsManager: SecretsManagerStateData
}

const FILE = 'aws-state.json'

/** Loads the saved AWS state into the server; false when there is none yet. */
export async function loadSandboxState(aws: AwsServer, dir: string): Promise<boolean> {
  let text: string
  try {
    text = await readFile(join(dir, FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
  const state = JSON.parse(text) as SandboxStateFile
  if (state.format !== 1) throw new Error(`${join(dir, FILE)}: unknown format; run \`npm run sandbox -- reset\``)
  aws.s3.importState(state.s3)
  aws.secretsManager.importState(state.secretsManager)
  return true
}

/** Saves the AWS state (written to a temporary file, then renamed, so an interrupted save leaves the old one). */
export async function saveSandboxState(aws: AwsServer, dir: string): Promise<void> {
  await mkdir(dir, {recursive: true})
  const state: SandboxStateFile = {
    format: 1,
    s3: aws.s3.exportState(),
    secretsManager: aws.secretsManager.exportState(),
  }
  const temporary = join(dir, `${FILE}.${process.pid}.tmp`)
  await writeFile(temporary, `${JSON.stringify(state)}\n`, {mode: 0o600})
  await rename(temporary, join(dir, FILE))
}

export const resetSandboxState = (dir: string): Promise<void> => rm(join(dir, FILE), {force: true})

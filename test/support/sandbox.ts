/**
 * `npm run sandbox`: starts the in-process Vault and AWS test servers on fixed local ports, seeds
 * examples/sandbox/fixture.yaml and prints the environment to use them. The AWS side (Secrets Manager, the merge
 * store) is kept in .sandbox/ (SANDBOX_STATE_DIR) between invocations, so a second command sees what the first
 * applied; Vault is seeded from the fixture every time.
 *
 *   npm run sandbox                         keep running until Ctrl-C
 *   npm run sandbox -- pipeline --dry-run   run one secretsync command against it, then stop
 *   npm run sandbox -- reset                forget the saved AWS state
 */
import {spawn} from 'node:child_process'
import {join, relative} from 'node:path'
import {ROOT} from './cli.js'
import {loadFixture} from './fixture.js'
import {loadSandboxState, resetSandboxState, saveSandboxState} from './sandbox-state.js'
import {startTestStack} from './stack.js'

const VAULT_PORT = Number(process.env.SANDBOX_VAULT_PORT ?? 18200)
const AWS_PORT = Number(process.env.SANDBOX_AWS_PORT ?? 14566)
const CONFIG = join(ROOT, 'examples', 'sandbox', 'secretsync.yaml')
const STATE_DIR = process.env.SANDBOX_STATE_DIR ?? join(ROOT, '.sandbox')
const shownStateDir = relative(process.cwd(), STATE_DIR) || '.'

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === 'reset') {
  await resetSandboxState(STATE_DIR)
  process.stderr.write(`secretsync sandbox: saved AWS state in ${shownStateDir}/ removed\n`)
} else {
  const fixture = await loadFixture(join(ROOT, 'examples', 'sandbox', 'fixture.yaml'))
  const stack = await startTestStack(fixture, {vaultPort: VAULT_PORT, awsPort: AWS_PORT})
  if (await loadSandboxState(stack.aws, STATE_DIR)) {
    process.stderr.write(
      `secretsync sandbox: AWS state from ${shownStateDir}/ (earlier runs' results); \`npm run sandbox -- reset\` starts over\n`,
    )
  }
  const approle = stack.credentials.approles.secretsync
  const env: Record<string, string> = {
    ...stack.env,
    ...(approle ? {VAULT_ROLE_ID: approle.roleId, VAULT_SECRET_ID: approle.secretId} : {}),
    SECRETSYNC_CONFIG: CONFIG,
  }
  const stopAndSave = async (): Promise<void> => {
    await stack.close()
    await saveSandboxState(stack.aws, STATE_DIR)
  }

  if (args.length === 0) {
    process.stdout.write(`secretsync sandbox: Vault on ${stack.vault.url}, AWS on ${stack.aws.url}\n\n`)
    for (const [key, value] of Object.entries(env)) process.stdout.write(`export ${key}=${value}\n`)
    process.stdout.write(`\nThen: ./bin/run.js pipeline --dry-run\nCtrl-C stops the sandbox.\n`)
    // Closing the servers ends the last handles, so the process exits by itself once the state is saved.
    const stop = (): void => {
      void stopAndSave()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } else {
    process.stderr.write(
      `secretsync sandbox: running \`secretsync ${args.join(' ')}\` against ${stack.vault.url} and ${stack.aws.url}\n`,
    )
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
      stdio: 'inherit',
      env: {...process.env, ...env},
    })
    const code = await new Promise<number>((resolve) => child.on('exit', (status) => resolve(status ?? 1)))
    await stopAndSave()
    process.exitCode = code
  }
}

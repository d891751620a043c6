import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'
import {sleep} from './http-server.js'

/**
 * moto (the community AWS emulator, `moto_server`) as an independent AWS for the integration suite and the
 * conformance tests: one server per run on a free loopback port, stopped at the end.
 *
 * Known gaps of moto 5.2.1 that matter here (the tests that need them run only against the project's server):
 * - STS AssumeRole ignores trust policies, ExternalId, MaxSessionDuration and role chaining limits; it only maps
 *   the credentials it issues to the account in the role ARN (so two accounts work through AssumeRole).
 * - SSO Admin ProvisionPermissionSet ignores TargetId: a permission set is provisioned only to the caller's
 *   account, and ListAccountsForProvisionedPermissionSet answers that account alone; ListAccountAssignments works
 *   for any account.
 * - No throttling, no injected faults, no call counters: tests assert on state and on the CLI's JSON instead.
 * - Secrets Manager deletion: the recovery window is recorded but time cannot be moved, so expiry is untestable.
 * - Secrets Manager skips documented input checks (name length/characters, 65,536-byte values, MaxResults ranges,
 *   BatchGetSecretValue's 20 ids, writes to a secret scheduled for deletion) and lists unlabelled versions.
 * - Secrets Manager resource policies: BlockPublicPolicy is ignored, any text is taken as a policy (no
 *   MalformedPolicyDocumentException) and kept exactly as sent, Put/Delete on a secret scheduled for deletion succeed,
 *   and there is no ValidateResourcePolicy.
 * - S3 applies no default SSE-S3 and verifies no checksums; Identity Store ids are `d-` + 10 letters, not hex.
 * The conformance files name each where it matters; the AWS API reference decides every difference.
 */
export interface MotoServer {
  url: string
  /** Forgets every account's state (moto's `/moto-api/reset`). */
  reset(): Promise<void>
  close(): Promise<void>
}

export const MOTO_COMMAND = process.env.MOTO_SERVER ?? 'moto_server'

/** Whether `moto_server` can be started here (it is installed with pip; nothing here can install it). */
export const motoAvailable = (): boolean => spawnSync(MOTO_COMMAND, ['--help'], {stdio: 'ignore'}).status === 0

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

const stopped = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))

/** Starts `moto_server` on a free loopback port and waits (at most `startTimeoutMs`) until it answers. */
export async function startMoto(options: {startTimeoutMs?: number} = {}): Promise<MotoServer> {
  const timeoutMs = options.startTimeoutMs ?? 30_000
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(MOTO_COMMAND, ['-H', '127.0.0.1', '-p', String(port)], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000)
  })
  let spawnError: Error | undefined
  child.once('error', (error) => {
    spawnError = error
  })
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await stopped(child)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (spawnError) throw new Error(`could not start ${MOTO_COMMAND}: ${spawnError.message}`)
    if (child.exitCode !== null)
      throw new Error(`${MOTO_COMMAND} exited with ${child.exitCode} before answering on ${url}: ${stderr.trim()}`)
    try {
      const response = await fetch(`${url}/moto-api/`, {signal: AbortSignal.timeout(1000)})
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close()
      throw new Error(
        `${MOTO_COMMAND} did not answer on ${url} within ${timeoutMs} ms: ${stderr.trim() || 'no output'}`,
      )
    }
    await sleep(200)
  }
  return {
    url,
    reset: async () => {
      const response = await fetch(`${url}/moto-api/reset`, {method: 'POST'})
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`)
    },
    close,
  }
}

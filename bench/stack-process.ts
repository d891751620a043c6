/**
 * The test stack in a process of its own, so a scenario's peak RSS is the pipeline's, not the servers' (the
 * in-process S3 server alone holds every snapshot a run writes). Started by `startStackProcess` in support.ts;
 * it answers the requests below over the IPC channel and exits when the channel closes.
 */
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {startTestStack} from '../test/support/stack.js'
import type {StackFixture} from '../test/support/fixture.js'
import type {LatencySpec, QuotaSpec} from '../test/support/controls.js'

/** A generated Vault tree: `secrets` secrets under `mount`+`root`, in `folders` folders. */
export interface BenchTree {
  mount?: string
  root: string
  secrets: number
  folders?: number
}

export type StackRequest =
  | {op: 'start'; fixture: StackFixture; trees: BenchTree[]}
  | {op: 'resetCounters'}
  | {op: 'counters'}
  | {op: 'setLatency'; spec: LatencySpec}
  | {op: 'setQuota'; spec: QuotaSpec}
  | {op: 'putSecret'; mount: string; key: string; data: Record<string, unknown>}
  /** Secrets Manager secrets from a JSON-lines file of SeedLine (far faster than creating them through the API). */
  | {op: 'seedSecretsFile'; file: string}

/** One secret to seed, in an account-region. */
export interface SeedLine {
  account: string
  region: string
  name: string
  value: string
  tags: Record<string, string>
  description: string
}

/** The bench's usual secret: two short strings, a 64-character password and a list. */
export const benchSecret = (i: number): Record<string, unknown> => ({
  user: `u${i}`,
  password: `p${i}-${'x'.repeat(64)}`,
  hosts: ['a', 'b'],
})

export const treeKey = (tree: BenchTree, i: number): string => {
  const folders = tree.folders ?? Math.max(1, Math.round(tree.secrets / 100))
  return `${tree.root}f${String(i % folders).padStart(4, '0')}/s${String(i).padStart(6, '0')}`
}

type Stack = Awaited<ReturnType<typeof startTestStack>>
let stack: Stack | undefined

async function answer(request: StackRequest): Promise<unknown> {
  if (request.op === 'start') {
    stack = await startTestStack(request.fixture)
    for (const tree of request.trees) {
      const mount = tree.mount ?? 'secret/'
      for (let i = 0; i < tree.secrets; i++) stack.vault.putSecret(mount, treeKey(tree, i), benchSecret(i))
    }
    return stack.env
  }
  if (!stack) throw new Error('stack not started')
  switch (request.op) {
    case 'resetCounters':
      return stack.controls.resetCounters()
    case 'counters':
      return stack.controls.snapshot()
    case 'setLatency':
      return stack.controls.setLatency(request.spec)
    case 'setQuota':
      return stack.controls.setQuota(request.spec)
    case 'putSecret':
      return stack.vault.putSecret(request.mount, request.key, request.data)
    case 'seedSecretsFile': {
      let seeded = 0
      for await (const line of createInterface({input: createReadStream(request.file)})) {
        if (line === '') continue
        const {account, region, ...secret} = JSON.parse(line) as SeedLine
        stack.aws.secretsManager.seedSecret(account, region, secret)
        seeded += 1
      }
      return seeded
    }
  }
}

process.on('message', (message: {id: number; request: StackRequest}) => {
  answer(message.request).then(
    (result) => process.send?.({id: message.id, result}),
    (error: Error) => process.send?.({id: message.id, error: error.message}),
  )
})
// The bench process went away: close the servers, and with nothing left to wait for this process ends.
process.on('disconnect', () => {
  void stack?.close()
})

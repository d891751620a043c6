import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {ROOT} from '../support/cli.js'

// examples/github-workflow.yml is meant to work when copied: checked here against what GitHub and action.yml
// define, since no test can run a workflow on GitHub.

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface Job {
  if?: string
  'timeout-minutes'?: number
  steps: Step[]
}
interface Workflow {
  on: Record<string, unknown>
  permissions: Record<string, string>
  jobs: Record<string, Job>
}

const load = async <T>(file: string): Promise<T> => parse(await readFile(join(ROOT, file), 'utf8')) as T

describe('examples/github-workflow.yml', () => {
  it('has what a copied workflow needs: OIDC, a running schedule, path filters, time limits, no persisted token', async () => {
    const workflow = await load<Workflow>('examples/github-workflow.yml')
    expect(workflow.permissions).toEqual({contents: 'read', 'id-token': 'write'})
    const schedule = workflow.on.schedule as Array<{cron: string}>
    expect(schedule[0]?.cron.split(' ')).toHaveLength(5)
    for (const event of ['pull_request', 'push'] as const) {
      expect((workflow.on[event] as {paths: string[]}).paths).toContain('secretsync.yaml')
    }
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job['timeout-minutes'], name).toBeGreaterThan(0)
      const checkout = job.steps.find((step) => step.uses?.startsWith('actions/checkout@'))
      expect(checkout?.with?.['persist-credentials'], name).toBe(false)
      const aws = job.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'))
      expect(aws?.with?.['role-to-assume'], name).toMatch(/^arn:aws:iam::\d{12}:role\//)
      expect(
        job.steps.some((step) => step.uses === '<owner>/secretsync@<ref>'),
        name,
      ).toBe(true)
    }
  })

  it('applies only on the default branch; the schedule, whose event names no repository, is let through by name', async () => {
    const {jobs} = await load<Workflow>('examples/github-workflow.yml')
    const condition = (jobs.apply?.if ?? '').replace(/\s+/g, ' ')
    expect(condition).toContain("github.ref == format('refs/heads/{0}', github.event.repository.default_branch)")
    expect(condition).toContain("github.event_name == 'schedule'")
    expect(condition).toContain("github.event_name != 'pull_request'")
    expect(jobs.plan?.if).toBe("github.event_name == 'pull_request'")
  })

  it('uses only inputs and outputs action.yml declares', async () => {
    const workflow = await load<Workflow>('examples/github-workflow.yml')
    const manifest = await load<{inputs: Record<string, unknown>; outputs: Record<string, unknown>}>('action.yml')
    const text = await readFile(join(ROOT, 'examples/github-workflow.yml'), 'utf8')
    for (const job of Object.values(workflow.jobs)) {
      const ours = job.steps.filter((step) => step.uses === '<owner>/secretsync@<ref>')
      for (const step of ours) {
        for (const input of Object.keys(step.with ?? {})) expect(Object.keys(manifest.inputs)).toContain(input)
      }
    }
    const referenced = [...text.matchAll(/steps\.\w+\.outputs\.([\w-]+)/g)].map((match) => match[1])
    expect(referenced.length).toBeGreaterThan(0)
    for (const output of referenced) expect(Object.keys(manifest.outputs)).toContain(output)
  })
})

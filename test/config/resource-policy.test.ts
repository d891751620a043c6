import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {appTargetConfig} from '../support/config-probe.js'

// The config side of `resource_policy` (issue 16 item 5): a file relative to the config, inline JSON or a mapping,
// loaded into the document and checked; every problem names file, line and key, and a file that is not a regular
// file (a FIFO, a device, a directory) is refused without reading it.

let dir: string
let file: string
const app = appTargetConfig({file: () => file})
const parse = (policy: string, extra = '') => app.parse(`    resource_policy: ${policy}\n`, extra)
const problem = (policy: string, extra = '') => app.problem(`    resource_policy: ${policy}\n`, extra)
const DOC = {
  Version: '2012-10-17',
  Statement: [
    {Effect: 'Allow', Principal: {AWS: '{{account_id}}'}, Action: 'secretsmanager:GetSecretValue', Resource: '*'},
  ],
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secretsync-policy-'))
  file = join(dir, 'secretsync.yaml')
  await mkdir(join(dir, 'policies'))
  await writeFile(join(dir, 'policies', 'readers.json'), `\uFEFF${JSON.stringify(DOC, null, 2)}\n`)
  await writeFile(join(dir, 'policies', 'broken.json'), '{"Version": ')
  await writeFile(join(dir, 'policies', 'list.json'), '[]')
  await writeFile(join(dir, 'policies', 'big.json'), ' '.repeat(100_000))
  execFileSync('mkfifo', [join(dir, 'policies', 'fifo.json')])
})

describe('resource_policy', () => {
  it('Given a file relative to the config, inline JSON text or a mapping, then each loads as the document', () => {
    expect(parse('policies/readers.json').targets[0]?.resource_policy).toEqual(DOC)
    expect(parse(`'${JSON.stringify(DOC)}'`).targets[0]?.resource_policy).toEqual(DOC)
    expect(
      parse(
        '\n      Version: "2012-10-17"\n      Statement: {Effect: Deny, Principal: "*", Action: "*", Resource: "*"}',
      ).targets[0]?.resource_policy,
    ).toEqual({Version: '2012-10-17', Statement: {Effect: 'Deny', Principal: '*', Action: '*', Resource: '*'}})
  })

  it('Given a discovery target template with a policy file, then it loads there too', () => {
    const config = parse(
      'policies/readers.json',
      'discovery:\n  - name: orgs\n    type: aws_organizations\n    target: {imports: [base], resource_policy: policies/readers.json}\n',
    )
    expect(config.discovery[0]?.target.resource_policy).toEqual(DOC)
  })

  it.each([
    ['policies/missing.json', 'file not found'],
    ['policies', 'is not a regular file'],
    ['policies/fifo.json', 'is not a regular file'],
    ['/dev/zero', 'is not a regular file'],
    ['policies/big.json', 'a resource policy file is at most 81920'],
    ['policies/broken.json', 'is not valid JSON'],
    ['policies/list.json', 'must be a JSON object'],
    [`'{"Version": "2012-10-17"'`, 'inline JSON is not valid JSON'],
    ['{Version: "2012-10-17"}', 'needs "Statement"'],
    ['{Statement: []}', 'needs "Version"'],
    ['[1]', 'expected a policy file path, inline JSON, or a mapping'],
    [
      '{Version: "2012-10-17", Statement: {Effect: Allow, Principal: {AWS: "{{key}}"}, Action: "*", Resource: "*"}}',
      '{{key}} differs per secret',
    ],
    [
      '{Version: "2012-10-17", Statement: {Effect: Allow, Principal: {AWS: "{{account_name}}"}, Action: "*", Resource: "*"}}',
      '{{account_name}} is known for discovered targets',
    ],
  ])('Given resource_policy %s, then loading fails naming the file, line 8 and the key', (policy, message) => {
    const text = problem(policy)
    expect(text).toContain(message)
    expect(text).toMatch(/secretsync\.yaml:8.*targets\[0\]\.resource_policy/)
  })

  it('Given inline JSON that is not valid and holds a value, then the error names a position, never the text', () => {
    const text = problem(`'{"Version": "2012-10-17", "Statement": [{"Sid": s3cr3t-token-value}]}'`)
    expect(text).toContain('inline JSON is not valid JSON')
    expect(text).toMatch(/at position \d+/)
    expect(text).not.toContain('s3cr3t')
  })
})

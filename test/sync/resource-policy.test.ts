import {describe, expect, it} from 'vitest'
import {
  planPolicy,
  policyDocumentProblem,
  policyHash,
  policyTemplateProblems,
  renderPolicy,
  type DesiredPolicy,
} from '../../src/sync/resource-policy.js'
import type {JsonObject} from '../../src/util/canonical-json.js'

const statement = {
  Effect: 'Allow',
  Principal: {AWS: '111111111111'},
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
  Condition: {Bool: {'aws:SecureTransport': true}},
}
const policy = (...statements: unknown[]) => ({Version: '2012-10-17', Statement: statements}) as JsonObject
const desired = (document: unknown): DesiredPolicy => ({text: JSON.stringify(document), hash: policyHash(document)})

describe('policies are compared by meaning, not text', () => {
  it('treats what IAM treats alike as equal', () => {
    const mine = policy(statement, {Effect: 'Deny', Principal: '*', Action: ['b', 'a'], Resource: '*'})
    // As AWS may hand it back: root ARN for the account, lists for single values, strings in conditions,
    // statements in another order, its own whitespace.
    const returned = JSON.parse(
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [
            {Effect: 'Deny', Principal: '*', Action: ['a', 'b', 'a'], Resource: ['*']},
            {
              Condition: {Bool: {'aws:SecureTransport': ['true']}},
              Resource: '*',
              Action: ['secretsmanager:GetSecretValue'],
              Principal: {AWS: ['arn:aws:iam::111111111111:root']},
              Effect: 'Allow',
            },
          ],
        },
        null,
        2,
      ),
    ) as unknown
    expect(policyHash(returned)).toBe(policyHash(mine))
  })

  it('tells different policies apart', () => {
    const base = policyHash(policy(statement))
    expect(policyHash(policy({...statement, Effect: 'Deny'}))).not.toBe(base)
    expect(policyHash(policy({...statement, Principal: {AWS: '222222222222'}}))).not.toBe(base)
    expect(policyHash(policy({...statement, Action: ['secretsmanager:GetSecretValue', 'x']}))).not.toBe(base)
    expect(policyHash(policy(statement, statement))).toBe(base)
  })
})

describe('policy documents and their variables', () => {
  it('needs Version and Statement, within the AWS length limit', () => {
    expect(policyDocumentProblem(policy(statement))).toBeUndefined()
    expect(policyDocumentProblem([])).toMatch(/JSON object/)
    expect(policyDocumentProblem({Statement: []})).toMatch(/Version/)
    expect(policyDocumentProblem({Version: '2012-10-17', Statement: []})).toMatch(/Statement/)
    expect(policyDocumentProblem(policy({...statement, Sid: 'x'.repeat(20_500)}))).toMatch(/20480/)
  })

  it('renders target, account, account name and region; refuses per-secret variables', () => {
    const template = policy({...statement, Principal: {AWS: 'arn:aws:iam::{{account_id}}:role/{{target | upper}}'}})
    const rendered = renderPolicy(template, {target: 'app', account_id: '123456789012', region: 'us-east-1'})
    expect(JSON.parse(rendered.text)).toMatchObject({
      Statement: [{Principal: {AWS: 'arn:aws:iam::123456789012:role/APP'}}],
    })
    expect(policyTemplateProblems(template, false)).toEqual([])
    expect(policyTemplateProblems(policy({...statement, Sid: '{{path}}'}), false)).toEqual([
      '{{path}} differs per secret; a resource policy may use target, account_id, account_name, region',
    ])
    expect(policyTemplateProblems(policy({...statement, Sid: '{{account_name}}'}), false)[0]).toMatch(/account_name/)
    expect(policyTemplateProblems(policy({...statement, Sid: '{{account_name}}'}), true)).toEqual([])
  })
})

describe('planPolicy: what to do about one secret', () => {
  const want = desired(policy(statement))
  const other = JSON.stringify(policy({...statement, Principal: {AWS: '999999999999'}}))
  const otherHash = policyHash(JSON.parse(other))

  it('puts a missing policy, then tags it; a deleted one (tag left) is drift', () => {
    expect(planPolicy(want, null, undefined, false)).toEqual({
      policy: 'set',
      drift: false,
      tag: 'added',
      writes: {put: want.text, tag: want.hash},
    })
    expect(planPolicy(want, null, want.hash, false)).toMatchObject({policy: 'set', drift: true, tag: undefined})
  })

  it('an equal policy needs nothing, or only its tag', () => {
    expect(planPolicy(want, JSON.stringify(policy(statement), null, 2), want.hash, false)).toEqual({drift: false})
    expect(planPolicy(want, want.text, undefined, false)).toEqual({
      drift: false,
      tag: 'added',
      writes: {tag: want.hash},
    })
  })

  it('replaces its own policy (drift when edited elsewhere); a foreign one only with adopt', () => {
    expect(planPolicy(want, other, otherHash, false)).toMatchObject({policy: 'updated', drift: false, tag: 'changed'})
    expect(planPolicy(want, other, want.hash, false)).toMatchObject({policy: 'updated', drift: true})
    expect(planPolicy(want, other, undefined, false).conflict).toMatch(/did not set/)
    expect(planPolicy(want, other, undefined, true)).toMatchObject({policy: 'updated', drift: false, tag: 'added'})
  })

  it('without resource_policy: deletes only what carries the tag, never reads or touches a foreign one', () => {
    expect(planPolicy(undefined, other, undefined, true)).toEqual({drift: false})
    expect(planPolicy(undefined, other, otherHash, false)).toEqual({
      policy: 'removed',
      drift: false,
      tag: 'removed',
      writes: {delete: true, untag: true},
    })
    expect(planPolicy(undefined, other, want.hash, false)).toMatchObject({policy: 'removed', drift: true})
    // Not read (being restored): the tag alone decides.
    expect(planPolicy(undefined, undefined, want.hash, false)).toMatchObject({policy: 'removed', drift: false})
    expect(planPolicy(undefined, undefined, undefined, false)).toEqual({drift: false})
    expect(planPolicy(undefined, null, want.hash, false)).toEqual({
      drift: false,
      tag: 'removed',
      writes: {untag: true},
    })
  })
})

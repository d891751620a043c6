import {describe, expect, it} from 'vitest'
import {configSchema} from '../../src/config/schema.js'
import {
  renderTarget,
  renderTemplateString,
  resolveNameCollisions,
  sanitizeTargetName,
  TemplateError,
  type TargetTemplate,
  type TemplateAccount,
} from '../../src/discovery/index.js'

// Templates are pure: a template and plain accounts in, TargetConfig-shaped targets out.

const account: TemplateAccount = {
  id: '123456789012',
  name: 'Payments Prod (EU)',
  ouId: 'ou-ab12-prod0001',
  tags: {Environment: 'production', Team: 'payments'},
}

/** A template exactly as the config loader produces it (defaults filled in). */
const template = (target: Record<string, unknown> = {}): TargetTemplate => {
  const block = configSchema.parse({discovery: [{name: 'workloads', type: 'aws_organizations', target}]}).discovery[0]
  if (!block) throw new Error('no block parsed')
  return block.target
}

const thrown = (run: () => unknown): Error => {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

describe('renderTemplateString', () => {
  it('fills account id, name, OU and tags', () => {
    expect(renderTemplateString('{{account_id}}/{{ account_name }}/{{ou_id}}/{{tags.Team}}', account)).toBe(
      '123456789012/Payments Prod (EU)/ou-ab12-prod0001/payments',
    )
  })

  it('names the account and key of a missing tag', () => {
    const error = thrown(() => renderTemplateString('{{tags.CostCenter}}', account))
    expect(error).toBeInstanceOf(TemplateError)
    expect(error.message).toBe(
      'account 123456789012 (Payments Prod (EU)) has no tag "CostCenter" for {{tags.CostCenter}}',
    )
  })

  it('refuses unknown placeholders, unbalanced braces and an OU it does not know', () => {
    expect(thrown(() => renderTemplateString('{{region}}', account)).message).toMatch(
      /unknown placeholder \{\{region\}\}/,
    )
    expect(thrown(() => renderTemplateString('{{account_id}', account)).message).toMatch(/unbalanced/)
    const {ouId: _ouId, ...withoutOu} = account
    expect(thrown(() => renderTemplateString('{{ou_id}}', withoutOu)).message).toMatch(/has no known OU/)
  })
})

describe('sanitizeTargetName', () => {
  it.each([
    ['Payments Prod (EU)', 'Payments-Prod-EU'],
    ['a  b//c', 'a-b-c'],
    ['--edge--', 'edge'],
    ['ok_name.v2-x', 'ok_name.v2-x'],
    ['日本', '_123456789012'],
    ['', '_123456789012'],
    ['.', '_123456789012'],
    ['..', '_123456789012'],
    ['/../', '_123456789012'],
    ['...', '...'],
    ['a..b', 'a..b'],
  ])('%j becomes %j', (raw, expected) => {
    expect(sanitizeTargetName(raw, '123456789012')).toBe(expected)
  })
})

describe('renderTarget', () => {
  it('renders a TargetConfig with account_id, role_arn, imports and tag values', () => {
    const target = renderTarget(
      template({
        name: '{{account_name}}-{{tags.Environment}}',
        region: 'eu-west-1',
        role_arn: 'arn:aws:iam::{{account_id}}:role/SecretSync',
        imports: ['base', '{{tags.Environment}}'],
        overrides: {environment: 'x'},
        secret_prefix: 'apps/',
        tags: {team: '{{tags.Team}}'},
        name_template: '{{account_name | lower}}/{{path}}',
      }),
      account,
    )
    expect(target).toEqual({
      name: 'Payments-Prod-EU-production',
      type: 'aws_secretsmanager',
      account_id: '123456789012',
      // The account's own name (untrusted text) for {{account_name}}; the template is rendered per secret at sync.
      account_name: 'Payments Prod (EU)',
      name_template: '{{account_name | lower}}/{{path}}',
      role_arn: 'arn:aws:iam::123456789012:role/SecretSync',
      region: 'eu-west-1',
      imports: ['base', 'production'],
      overrides: {environment: 'x'},
      secret_prefix: 'apps/',
      tags: {team: 'payments'},
    })
  })

  it('copies replica_regions, so every discovered target replicates like its template', () => {
    const replicas = [{region: 'us-west-2'}, {region: 'eu-central-1', kms_key_id: 'alias/replica'}]
    const target = renderTarget(template({region: 'eu-west-1', replica_regions: replicas}), account)
    expect(target.replica_regions).toEqual(replicas)
    expect(renderTarget(template(), account).replica_regions).toBeUndefined()
  })

  it('keeps rotation and resource_policy; the {{variables}} of the policy are left for sync to render per account', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: {Effect: 'Allow', Principal: {AWS: '{{account_id}}'}, Action: '*', Resource: '*'},
    }
    const target = renderTarget(template({rotation: 'overwrite', resource_policy: policy}), account)
    expect(target).toMatchObject({rotation: 'overwrite', resource_policy: policy})
    // A copy: two accounts rendered from one template never share the document.
    expect(target.resource_policy).not.toBe(template({resource_policy: policy}).resource_policy)
  })

  it('leaves role_arn out without a template, so aws.role_pattern applies', () => {
    const target = renderTarget(template(), account)
    expect(target.role_arn).toBeUndefined()
    expect(target).toMatchObject({name: 'Payments-Prod-EU', account_id: '123456789012', imports: [], secret_prefix: ''})
  })

  it.each(['日本', '', '.', '..'])(
    'gives an account named %j the name _<account id>, never a folder outside the store',
    (name) => {
      expect(renderTarget(template(), {...account, name}).name).toBe('_123456789012')
    },
  )
})

describe('resolveNameCollisions', () => {
  const named = (name: string, accountId: string, block = 'workloads') => ({name, accountId, block})

  it('keeps unique names', () => {
    expect(resolveNameCollisions([named('a', '111111111111'), named('b', '222222222222')], [])).toEqual([
      {name: 'a'},
      {name: 'b'},
    ])
  })

  it('suffixes every account sharing a name, whatever the input order', () => {
    const forward = resolveNameCollisions(
      [named('shared', '222222222222'), named('shared', '111111111111'), named('solo', '333333333333')],
      [],
    )
    expect(forward).toEqual([{name: 'shared_222222222222'}, {name: 'shared_111111111111'}, {name: 'solo'}])
    const backward = resolveNameCollisions([named('shared', '111111111111'), named('shared', '222222222222')], [])
    expect(backward).toEqual([{name: 'shared_111111111111'}, {name: 'shared_222222222222'}])
  })

  it('suffixes a discovered name equal to a static target or a source, never the static one', () => {
    expect(
      resolveNameCollisions([named('base', '111111111111'), named('prod', '222222222222')], ['base', 'prod']),
    ).toEqual([{name: 'base_111111111111'}, {name: 'prod_222222222222'}])
  })

  it('settles a suffixed name that meets another account of that name', () => {
    const result = resolveNameCollisions(
      [named('x', '111111111111'), named('x', '222222222222'), named('x_111111111111', '333333333333')],
      [],
    )
    expect(result).toEqual([
      {name: 'x_111111111111_111111111111'},
      {name: 'x_222222222222'},
      {name: 'x_111111111111_333333333333'},
    ])
  })

  it('reports one account named alike by two blocks instead of guessing', () => {
    const [first, second] = resolveNameCollisions(
      [named('acct', '111111111111', 'us'), named('acct', '111111111111', 'eu')],
      [],
    )
    expect(first).toEqual({
      error: expect.stringMatching(/blocks "us" and "eu" all name account 111111111111/) as unknown,
    })
    expect(second).toHaveProperty('error')
  })
})

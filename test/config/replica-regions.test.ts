import {describe, expect, it} from 'vitest'
import {appTargetConfig} from '../support/config-probe.js'

// `replica_regions` (issue 16 item 3) checked at load: each error names file, line and key.

const FILE = 'secretsync.yaml'
const {parse, problem} = appTargetConfig({file: FILE})

describe('replica_regions', () => {
  it('Given regions with and without a KMS key on a target and a discovery template, then they load as written', () => {
    const config = parse(
      '    replica_regions:\n      - {region: eu-west-1}\n      - {region: us-west-2, kms_key_id: alias/replica}\n',
      'discovery:\n  - name: orgs\n    type: aws_organizations\n    target: {imports: [base], replica_regions: [{region: eu-central-1}]}\n',
    )
    expect(config.targets[0]?.replica_regions).toEqual([
      {region: 'eu-west-1'},
      {region: 'us-west-2', kms_key_id: 'alias/replica'},
    ])
    expect(config.discovery[0]?.target.replica_regions).toEqual([{region: 'eu-central-1'}])
  })

  it.each([
    [
      '    replica_regions: [{region: eu-west-1}, {region: eu-west-1}]\n',
      'targets[0].replica_regions[1].region',
      'duplicate replica region eu-west-1',
    ],
    [
      '    replica_regions: [{region: us-east-1}]\n',
      'targets[0].replica_regions[0].region',
      "is the target's own region (us-east-1)",
    ],
    [
      '    region: eu-west-1\n    replica_regions: [{region: eu-west-1}]\n',
      'targets[0].replica_regions[0].region',
      'own region (eu-west-1)',
    ],
    ['    replica_regions: [{region: Europe}]\n', 'targets[0].replica_regions[0].region', 'expected an AWS region'],
    ['    replica_regions: [{region: eu-west-1, kms: x}]\n', 'targets[0].replica_regions[0]', 'kms'],
    ['    replica_regions: eu-west-1\n', 'targets[0].replica_regions', 'expected a list'],
  ])('Given %j, then loading fails naming %s and the line', (target, key, message) => {
    const text = problem(target)
    expect(text).toMatch(new RegExp(`${FILE}:(8|9):`))
    expect(text).toContain(key)
    expect(text).toContain(message)
  })

  it("Given a discovery template replicating into aws.region, then it is an error naming the template's key", () => {
    const text = problem(
      '',
      'discovery:\n  - name: orgs\n    type: aws_organizations\n    target: {imports: [base], replica_regions: [{region: us-east-1}]}\n',
    )
    expect(text).toContain('discovery[0].target.replica_regions[0].region')
    expect(text).toContain(`${FILE}:11`)
  })
})

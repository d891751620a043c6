import {describe, expect, it} from 'vitest'
import {planReplicas, REPLICAS_TAG} from '../../src/sync/replicas.js'

describe('planReplicas', () => {
  it('a replica removed by hand while the tag still lists it is added again; the tag stays, and records both regions', () => {
    // Given the tag records eu-west-1 and us-west-2, but AWS reports only us-west-2
    const plan = planReplicas(
      [{region: 'eu-west-1'}, {region: 'us-west-2'}],
      [{region: 'us-west-2', status: 'InSync'}],
      {[REPLICAS_TAG]: 'eu-west-1 us-west-2'},
    )
    // Then eu-west-1 is added, the tag is not rewritten, and what it records (a failed add is taken out of) is both
    expect(plan.added).toEqual(['eu-west-1'])
    expect(plan.writes).toEqual({add: [{region: 'eu-west-1'}], remove: [], recorded: 'eu-west-1 us-west-2'})
  })

  it('a changed set is retagged with the regions wanted', () => {
    const plan = planReplicas([{region: 'eu-west-1'}], [{region: 'us-west-2', status: 'InSync'}], {
      [REPLICAS_TAG]: 'us-west-2',
    })
    expect(plan.writes).toEqual({
      add: [{region: 'eu-west-1'}],
      remove: ['us-west-2'],
      recorded: 'eu-west-1',
      tag: 'eu-west-1',
    })
  })
})

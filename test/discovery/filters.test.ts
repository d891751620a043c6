import {describe, expect, it} from 'vitest'
import {evaluateAccount, wildcardMatches, type FilterRules} from '../../src/discovery/index.js'
import type {DiscoveredAccount} from '../../src/discovery/index.js'

// Filters are pure: plain accounts in, a verdict with reasons out. No server, no mocks.

const account = (overrides: Partial<DiscoveredAccount> = {}): DiscoveredAccount => ({
  id: '111111111111',
  name: 'payments-prod',
  status: 'ACTIVE',
  ouId: 'ou-ab12-prod0001',
  ouPath: ['r-ab12', 'ou-ab12-workload', 'ou-ab12-prod0001'],
  tags: {Environment: 'production', Team: 'payments'},
  ...overrides,
})

const rules = (overrides: Partial<FilterRules> = {}): FilterRules => ({
  filters: [],
  match: 'all',
  statuses: ['ACTIVE'],
  exclude_accounts: [],
  ...overrides,
})

describe('wildcardMatches', () => {
  it.each([
    ['production', 'production', true],
    ['staging*', 'staging', true],
    ['staging*', 'staging-eu', true],
    ['*-eu', 'staging-eu', true],
    ['prod?', 'prod1', true],
    ['prod?', 'prod', false],
    ['prod?', 'prod12', false],
    ['production', 'Production', false],
    ['prod', 'production', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['*', '', true],
  ])('pattern %j against %j is %s', (pattern, value, expected) => {
    expect(wildcardMatches(pattern, value)).toBe(expected)
  })
})

describe('evaluateAccount', () => {
  it('keeps an active account when there are no filters', () => {
    expect(evaluateAccount(account(), rules())).toEqual({included: true, reasons: ['status ACTIVE in [ACTIVE]']})
  })

  it('says which value a tag filter matched, and why it did not', () => {
    const filters = [{tag: 'Environment', values: ['staging*', 'production']}]
    expect(evaluateAccount(account(), rules({filters}))).toEqual({
      included: true,
      reasons: ['tag Environment=production matches production', 'status ACTIVE in [ACTIVE]'],
    })
    const dev = evaluateAccount(account({tags: {Environment: 'development'}}), rules({filters}))
    expect(dev).toEqual({
      included: false,
      reasons: ['tag Environment=development matches none of [staging*, production]', 'status ACTIVE in [ACTIVE]'],
    })
    expect(evaluateAccount(account({tags: {}}), rules({filters})).reasons[0]).toBe('tag Environment missing')
  })

  it('compares tag keys and values case-sensitively, as AWS does', () => {
    const filters = [{tag: 'environment', values: ['production']}]
    expect(evaluateAccount(account(), rules({filters})).included).toBe(false)
    expect(evaluateAccount(account(), rules({filters: [{tag: 'Environment', values: ['PRODUCTION']}]})).included).toBe(
      false,
    )
  })

  it('matches an ou filter for accounts found anywhere below that OU', () => {
    expect(evaluateAccount(account(), rules({filters: [{ou: 'ou-ab12-workload'}]})).reasons[0]).toBe(
      'under OU ou-ab12-workload',
    )
    const elsewhere = evaluateAccount(account(), rules({filters: [{ou: 'ou-ab12-sandbox1'}]}))
    expect(elsewhere).toMatchObject({
      included: false,
      reasons: ['not under OU ou-ab12-sandbox1', 'status ACTIVE in [ACTIVE]'],
    })
  })

  it('needs every filter with match: all and one with match: any', () => {
    const filters = [
      {tag: 'Environment', values: ['production']},
      {tag: 'Team', values: ['platform']},
    ]
    const all = evaluateAccount(account(), rules({filters, match: 'all'}))
    expect(all.included).toBe(false)
    expect(all.reasons).toContain('match all: 1 of 2 filters matched')
    const any = evaluateAccount(account(), rules({filters, match: 'any'}))
    expect(any.included).toBe(true)
    expect(any.reasons).toContain('match any: 1 of 2 filters matched')
  })

  it('excludes other statuses by default and keeps those listed', () => {
    expect(evaluateAccount(account({status: 'SUSPENDED'}), rules())).toEqual({
      included: false,
      reasons: ['status SUSPENDED not in [ACTIVE]'],
    })
    expect(evaluateAccount(account({status: 'CLOSED'}), rules()).included).toBe(false)
    expect(evaluateAccount(account({status: 'SUSPENDED'}), rules({statuses: ['ACTIVE', 'SUSPENDED']})).included).toBe(
      true,
    )
  })

  it('drops exclude_accounts whatever else matches', () => {
    expect(evaluateAccount(account(), rules({exclude_accounts: ['111111111111']}))).toEqual({
      included: false,
      reasons: ['status ACTIVE in [ACTIVE]', 'excluded by exclude_accounts'],
    })
  })
})

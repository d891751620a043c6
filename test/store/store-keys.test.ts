import {describe, expect, it} from 'vitest'
import {storeKeys} from '../../src/store/store-keys.js'

// The last line of defence of the merge store's key space: whatever reaches the key builders, no key leaves
// the configured prefix (issue 17 item 4). The config refuses these names first; here they are bugs upstream.

describe('storeKeys', () => {
  const keys = storeKeys('merged/')

  it('Given ordinary names, then every key sits in the target folder under the prefix', () => {
    expect([
      keys.snapshot('prod', 3),
      keys.latest('prod'),
      keys.applied('prod', '123456789012', 'us-east-1'),
      keys.lock('prod'),
    ]).toEqual([
      'merged/prod/v3.json',
      'merged/prod/latest.json',
      'merged/prod/applied/123456789012-us-east-1.json',
      'merged/locks/prod.json',
    ])
  })

  it.each(['..', '.', '', 'a/b', '../x', 'x/..'])(
    'Given the target name %j, then building any key is an internal error',
    (target) => {
      for (const build of [
        () => keys.snapshot(target, 1),
        () => keys.latest(target),
        () => keys.applied(target, 'base', 'us-east-1'),
        () => keys.lock(target),
        () => keys.targetFolder(target),
      ]) {
        expect(build).toThrow(/internal error: refusing target name/)
      }
    },
  )

  it.each([
    ['..', 'us-east-1'],
    ['base', '../x'],
    ['a/b', 'us-east-1'],
  ])('Given account %j and region %j, then the applied-record key is refused', (account, region) => {
    expect(() => keys.applied('prod', account, region)).toThrow(/internal error/)
  })

  it.each(['../other/', 'a/../../b/', './', 'a//b/', '/abs/', 'x'])(
    'Given the prefix %j, then the store refuses to build keys at all',
    (prefix) => {
      expect(() => storeKeys(prefix)).toThrow(/internal error/)
    },
  )

  it('Given an empty prefix, then keys start at the bucket root with the target folder', () => {
    expect(storeKeys('').latest('prod')).toBe('prod/latest.json')
  })
})

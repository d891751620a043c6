import {describe, expect, it} from 'vitest'
import {desiredSecret} from '../../src/sync/plan.js'
import {isSendableName, nameProblem, secretName} from '../../src/sync/secret-rules.js'

// Secret names against every AWS limit, checked before any call (issue 17 items 4 and 6).

describe('secret names', () => {
  it('Given a valid prefix and path, then the name is their concatenation', () => {
    expect(secretName('apps/', 'db/main')).toBe('apps/db/main')
    expect(secretName('', 'db')).toBe('db')
    expect(secretName('/prod/', 'db')).toBe('/prod/db')
  })

  it.each(['../', 'a/../../b/', './', 'a//'])(
    'Given the prefix %j outside its key space, then building a name is an internal error',
    (prefix) => {
      expect(() => secretName(prefix, 'db')).toThrow(/internal error: refusing secret_prefix/)
      expect(() => desiredSecret('db', prefix, {})).toThrow(/internal error/)
    },
  )

  it.each(['', '/db'])(
    'Given the path %j, which would blur where the prefix ends, then it is an internal error',
    (path) => {
      expect(() => secretName('apps/', path)).toThrow(/internal error: refusing secret path/)
    },
  )

  it.each([
    ['a/./b', 'the secret name must not have a "." or ".." segment'],
    ['a/../b', 'the secret name must not have a "." or ".." segment'],
    ['a//b', 'the secret name must not have an empty segment ("//")'],
    ['x'.repeat(513), 'the secret name is 513 characters; AWS allows at most 512'],
    ['x'.repeat(2100), 'the secret name is 2100 characters; AWS allows at most 512'],
    ['with space', 'the secret name may use only A-Z a-z 0-9 / _ + = . @ -'],
  ])('Given the name %#, then it fails alone with a reason and is never sent to AWS', (name, reason) => {
    expect(nameProblem(name)).toBe(reason)
    expect(isSendableName(name)).toBe(false)
  })

  it('Given names at the limits, then they are valid and may be sent', () => {
    for (const name of ['x'.repeat(512), '/prod/db', 'a.b/c..d/...']) {
      expect(nameProblem(name)).toBeUndefined()
      expect(isSendableName(name)).toBe(true)
    }
  })
})

import {describe, expect, it} from 'vitest'
import {REDACTED, Redactor} from '../../src/observability/redact.js'

describe('Redactor scopes', () => {
  it("a scope's values are redacted everywhere while it is open, and let go when it closes", () => {
    // Given a run's redactor with a Vault value, and a target's scope with a value it read from AWS
    const run = new Redactor()
    run.add('vault-value-1')
    const target = run.scope()
    target.add('aws-current-value')

    // Then both are redacted through either, while the scope is open
    const line = 'saw vault-value-1 and aws-current-value'
    expect(run.redactText(line)).toBe(`saw ${REDACTED} and ${REDACTED}`)
    expect(target.redactText(line)).toBe(`saw ${REDACTED} and ${REDACTED}`)

    // When the target settles and its scope closes
    target.close()

    // Then the run no longer holds (nor redacts) the target's value, and still redacts its own
    expect(run.redactText(line)).toBe(`saw ${REDACTED} and aws-current-value`)
  })
})

describe('Redactor scopes, several at once', () => {
  const line = (...parts: string[]): string => `saw ${parts.join(' and ')}`

  it('every open scope is redacted through the run and through each other scope; closing one keeps the others', () => {
    // Given a run's value and three targets' scopes, open at once, each with its own value
    const run = new Redactor()
    run.add('vault-value-1')
    const [a, b, c] = [run.scope(), run.scope(), run.scope()] as [Redactor, Redactor, Redactor]
    a.add('aws-value-a')
    b.add('aws-value-b')
    c.add('aws-value-c')
    const text = line('vault-value-1', 'aws-value-a', 'aws-value-b', 'aws-value-c')

    // Then every value is redacted whichever redactor prints
    for (const redactor of [run, a, b, c]) expect(redactor.redactText(text)).toBe(line(...Array(4).fill(REDACTED)))

    // When the middle one closes first, then the first
    b.close()
    // Then only b's value is let go, and a closed scope still redacts through the run
    for (const redactor of [run, a, b, c])
      expect(redactor.redactText(text)).toBe(line(REDACTED, REDACTED, 'aws-value-b', REDACTED))
    a.close()
    for (const redactor of [run, a, b, c])
      expect(redactor.redactText(text)).toBe(line(REDACTED, 'aws-value-a', 'aws-value-b', REDACTED))
  })

  it('a value added to a scope after it closed is still redacted everywhere (a late read never leaks)', () => {
    // Given a target's scope that closed when the target settled, beside another target's open scope
    const run = new Redactor()
    const settled = run.scope()
    const other = run.scope()
    settled.close()

    // When a read still in flight registers what it read through the closed scope
    settled.add({SecretString: 'late-aws-value'})

    // Then it is redacted through the run, the closed scope and the other scope
    for (const redactor of [run, settled, other])
      expect(redactor.redactText('x late-aws-value y')).toBe(`x ${REDACTED} y`)
  })

  it('a value inside another is masked whole, whichever redactor holds which and whichever came first', () => {
    // Given values that contain each other, spread over the run and two scopes in every order
    const short = 'pass'
    const long = 'my-pass-word'
    const other = 'word-and-more'
    const holders = [
      (run: Redactor, a: Redactor, b: Redactor) => [run, a, b],
      (run: Redactor, a: Redactor, b: Redactor) => [b, a, run],
      (run: Redactor, a: Redactor) => [run, run, a],
      (run: Redactor, a: Redactor) => [a, a, run],
      (run: Redactor) => [run, run, run],
    ]
    for (const [index, pick] of holders.entries()) {
      for (const order of [
        [0, 1, 2],
        [2, 1, 0],
        [1, 0, 2],
      ]) {
        const run = new Redactor()
        const a = run.scope()
        const b = run.scope()
        const owners = pick(run, a, b)
        const values = [short, long, other]
        for (const i of order) owners[i]?.add(values[i])
        const what = `holders ${index}, order ${order.join('')}`

        // Then no part of any value is left: the contained one is inside the mask of the containing one, and
        // overlapping ones (my-pass-word, word-and-more) are one mask
        for (const redactor of [run, a, b]) {
          expect(redactor.redactText('<my-pass-word>'), what).toBe(`<${REDACTED}>`)
          expect(redactor.redactText('<pass>'), what).toBe(`<${REDACTED}>`)
          expect(redactor.redactText('<my-pass-word-and-more>'), what).toBe(`<${REDACTED}>`)
          expect(redactor.redactText('<pass word-and-more>'), what).toBe(`<${REDACTED} ${REDACTED}>`)
        }
      }
    }
  })

  it('a scope masks the text it was given once: a value is never looked for in a mask already put in', () => {
    // Given a run value that is part of the mask text itself, and a scope's value
    const run = new Redactor()
    run.add('DACTED]')
    const scope = run.scope()
    scope.add('aws-value')

    // Then the scope's value becomes one mask, not a mask with a mask in it
    expect(scope.redactText('x aws-value y')).toBe(`x ${REDACTED} y`)
    expect(run.redactText('x aws-value y')).toBe(`x ${REDACTED} y`)
  })

  it('values that only touch stay two masks', () => {
    const run = new Redactor()
    run.add('aaaa')
    run.scope().add('bbbb')
    expect(run.redactText('aaaabbbb')).toBe(`${REDACTED}${REDACTED}`)
  })
})

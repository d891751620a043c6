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

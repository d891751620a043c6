import {describe, expect, it} from 'vitest'
import {SecretBudget} from '../../src/util/secret-budget.js'

/** A job that records when it starts and finishes only when told to. */
function controlledJob(log: string[], name: string) {
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  return {
    run: async () => {
      log.push(`start ${name}`)
      await done
      log.push(`end ${name}`)
      return name
    },
    finish,
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('SecretBudget', () => {
  it('Given a budget of 10 secrets, jobs of 4 overlap two at a time and start in the order they asked', async () => {
    const log: string[] = []
    const budget = new SecretBudget(10)
    const jobs = ['a', 'b', 'c'].map((name) => controlledJob(log, name))
    const results = jobs.map((job) => budget.run(4, job.run))
    await settle()
    expect(log).toEqual(['start a', 'start b'])
    jobs[0]?.finish()
    await settle()
    expect(log).toEqual(['start a', 'start b', 'end a', 'start c'])
    jobs[1]?.finish()
    jobs[2]?.finish()
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c'])
  })

  it('Given a job larger than the budget, it runs alone: after those in flight, before those behind it', async () => {
    const log: string[] = []
    const budget = new SecretBudget(10)
    const small = controlledJob(log, 'small')
    const large = controlledJob(log, 'large')
    const after = controlledJob(log, 'after')
    const results = [budget.run(2, small.run), budget.run(50, large.run), budget.run(2, after.run)]
    await settle()
    expect(log).toEqual(['start small'])
    small.finish()
    await settle()
    expect(log).toEqual(['start small', 'end small', 'start large'])
    large.finish()
    await settle()
    expect(log.slice(-2)).toEqual(['end large', 'start after'])
    after.finish()
    await Promise.all(results)
  })

  it('Given a job that fails, its secrets are returned to the budget and the next job starts', async () => {
    const budget = new SecretBudget(5)
    const failed = budget.run(5, () => Promise.reject(new Error('boom')))
    const next = budget.run(5, () => Promise.resolve('next'))
    await expect(failed).rejects.toThrow('boom')
    expect(await next).toBe('next')
  })
})

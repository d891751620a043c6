/**
 * Admits work by its size in secrets: a job starts while the secrets of the jobs in flight plus its own stay
 * within `limit`, or when nothing else is in flight (a job larger than the budget runs alone).
 * Jobs start in the order they asked. Merge-only and the sync phase use it so that many small targets overlap their merge-store
 * calls while one 100,000-secret target is merged and recorded by itself: what a target in flight holds grows
 * with its secrets, so the budget bounds memory where a count of targets cannot (issue 12).
 */
export class SecretBudget {
  private inFlight = 0
  private running = 0
  private readonly waiting: Array<{secrets: number; start: () => void}> = []

  constructor(private readonly limit: number) {}

  async run<T>(secrets: number, job: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      this.waiting.push({secrets, start})
      this.admit()
    })
    try {
      return await job()
    } finally {
      this.inFlight -= secrets
      this.running--
      this.admit()
    }
  }

  private admit(): void {
    for (let next = this.waiting[0]; next; next = this.waiting[0]) {
      if (this.running > 0 && this.inFlight + next.secrets > this.limit) return
      this.waiting.shift()
      this.inFlight += next.secrets
      this.running++
      next.start()
    }
  }
}

/**
 * A FIFO queue over one array that drops its processed prefix once `index > threshold && index > length / 2`
 * (DESIGN §4 queue compaction): dequeues stay O(1) and the processed entries it retains stay bounded.
 */
export class CompactingQueue<T> {
  private items: T[] = []
  private index = 0
  /** Compactions so far. */
  compactions = 0
  /** Largest number of processed entries the array held. */
  maxProcessedRetained = 0
  /** Largest physical length of the array. */
  maxLength = 0

  constructor(
    private readonly threshold: number,
    private readonly onCompact?: (before: number, after: number) => void,
  ) {}

  get size(): number {
    return this.items.length - this.index
  }

  push(item: T): void {
    this.items.push(item)
    this.maxLength = Math.max(this.maxLength, this.items.length)
  }

  shift(): T | undefined {
    if (this.index >= this.items.length) return undefined
    const item = this.items[this.index++] as T
    this.maxProcessedRetained = Math.max(this.maxProcessedRetained, this.index)
    if (this.index > this.threshold && this.index > this.items.length / 2) {
      const before = this.items.length
      this.items = this.items.slice(this.index)
      this.index = 0
      this.compactions++
      this.onCompact?.(before, this.items.length)
    }
    return item
  }
}

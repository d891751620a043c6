import {closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {InternalError} from '../errors.js'
import type {TargetSyncResult} from '../sync/types.js'

/**
 * Rendered entries kept in memory before they go to a temporary file. 500 targets × 2,000 planned creates render
 * to ~290 MB of compact entries (the result objects they came from took over 1 GiB): far more than a 512 MiB pod
 * can hold, while a few thousand changes stay well under it and never touch the disk.
 */
export const SPILL_BUDGET_BYTES = 32 * 1024 * 1024

export interface SettledTargetsOptions {
  /** The targets in the order output lists them (the sync phase settles them in any order). */
  order: readonly string[]
  /**
   * `--show-values`: results carry secret values, which never go to disk; they are kept as they are, in memory,
   * whatever their size (docs/design.md §2).
   */
  showValues: boolean
  budgetBytes?: number
  /** Where the spill directory is made (default os.tmpdir()). */
  tmpDir?: string
}

type Entry =
  {kind: 'object'; result: TargetSyncResult} | {kind: 'text'; text: string} | {kind: 'file'; at: number; bytes: number}

/** The spill file, and the hooks that remove it when the process ends before `close()` (an error, a second signal). */
class SpillFile {
  readonly dir: string
  private readonly fd: number
  private size = 0
  private readonly onExit = (): void => this.remove()

  constructor(tmp: string) {
    // mkdtemp makes the directory 0700; the file is 0600 and new (`wx`): only this user can read the plan.
    this.dir = mkdtempSync(join(tmp, 'secretsync-report-'))
    this.fd = openSync(join(this.dir, 'targets.jsonl'), 'wx+', 0o600)
    process.once('exit', this.onExit)
  }

  append(text: string): {at: number; bytes: number} {
    const buffer = Buffer.from(text, 'utf8')
    const at = this.size
    let written = 0
    while (written < buffer.length)
      written += writeSync(this.fd, buffer, written, buffer.length - written, at + written)
    this.size += buffer.length
    return {at, bytes: buffer.length}
  }

  read(at: number, bytes: number): string {
    const buffer = Buffer.allocUnsafe(bytes)
    let read = 0
    while (read < bytes) {
      const n = readSync(this.fd, buffer, read, bytes - read, at + read)
      if (n === 0) throw new InternalError(`the report's spill file ended early at byte ${at + read}`)
      read += n
    }
    return buffer.toString('utf8')
  }

  remove(): void {
    process.off('exit', this.onExit)
    try {
      closeSync(this.fd)
    } catch {
      // Already closed.
    }
    rmSync(this.dir, {recursive: true, force: true})
  }
}

/**
 * The results of a sync run's targets, held from the moment each settles until the output is printed. Each result
 * is rendered to one compact JSON line at once and its objects dropped; past `budgetBytes` the lines go to a
 * private temporary file, removed by `close()` or when the process exits. Iterating gives the results back one at
 * a time, in output order, as often as a renderer needs (each pass re-reads them), so a renderer holds one target's
 * result at a time.
 */
export class SettledTargets implements Iterable<TargetSyncResult> {
  private readonly entries = new Map<string, Entry>()
  private readonly order: readonly string[]
  private readonly showValues: boolean
  private readonly budget: number
  private readonly tmpDir: string
  private heldBytes = 0
  private spill: SpillFile | undefined
  private closed = false

  constructor(options: SettledTargetsOptions) {
    this.order = options.order
    this.showValues = options.showValues
    this.budget = options.budgetBytes ?? SPILL_BUDGET_BYTES
    this.tmpDir = options.tmpDir ?? tmpdir()
  }

  /** How many targets have settled. */
  get size(): number {
    return this.entries.size
  }

  /** Whether the entries went to a temporary file (for tests and the bench; the output is the same either way). */
  get spilled(): boolean {
    return this.spill !== undefined
  }

  /**
   * Keeps `result` until printing. After `close()` it is dropped: a target can still settle once the run has
   * ended on an error, and nothing will print it; keeping it could make a spill file only the exit hook removes.
   */
  add(result: TargetSyncResult): void {
    if (this.closed) return
    if (this.showValues) {
      this.entries.set(result.name, {kind: 'object', result})
      return
    }
    // Without values a result is plain data (strings, numbers, booleans, null, arrays): JSON gives it back exactly.
    const text = JSON.stringify(result)
    if (this.spill === undefined && this.heldBytes + text.length > this.budget) this.startSpilling()
    if (this.spill !== undefined) {
      this.entries.set(result.name, {kind: 'file', ...this.spill.append(`${text}\n`)})
    } else {
      this.heldBytes += text.length
      this.entries.set(result.name, {kind: 'text', text})
    }
  }

  *[Symbol.iterator](): Iterator<TargetSyncResult> {
    for (const name of this.order) {
      const entry = this.entries.get(name)
      if (entry === undefined) continue
      if (entry.kind === 'object') yield entry.result
      else if (entry.kind === 'text') yield JSON.parse(entry.text) as TargetSyncResult
      else yield JSON.parse(this.requireSpill().read(entry.at, entry.bytes)) as TargetSyncResult
    }
  }

  /** Removes the temporary file, if any; the results are gone with it, and later ones are not kept. */
  close(): void {
    this.closed = true
    this.spill?.remove()
    this.spill = undefined
    this.entries.clear()
    this.heldBytes = 0
  }

  private startSpilling(): void {
    const spill = new SpillFile(this.tmpDir)
    this.spill = spill
    for (const [name, entry] of this.entries) {
      if (entry.kind === 'text') this.entries.set(name, {kind: 'file', ...spill.append(`${entry.text}\n`)})
    }
    this.heldBytes = 0
  }

  private requireSpill(): SpillFile {
    if (this.spill === undefined) throw new InternalError('the settled targets were read after close()')
    return this.spill
  }
}

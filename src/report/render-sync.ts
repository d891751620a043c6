import type {SyncRunResult} from '../sync/types.js'
import {renderSyncCompact} from './sync-compact.js'
import {githubLogChunks, renderSyncGithub, type SyncGithubResult} from './sync-github.js'
import {syncJsonChunks} from './sync-json.js'
import {syncTextChunks} from './sync-text.js'

/** The values of `-o, --output`. */
export type SyncFormat = 'text' | 'json' | 'github' | 'compact'

export interface RenderSyncOptions {
  showValues: boolean
  /** ANSI colours in `text`; see `wantsColor`. Other formats never colour. */
  color: boolean
  /** Only for `github`: why the run plans or applies (SyncGithubOptions.note). */
  note?: string
}

export interface RenderSyncResult {
  /** What to print, in pieces: one target at a time for the per-target formats. */
  chunks: Iterable<string>
  /** `chunks` as one string (tests, small results). */
  readonly stdout: string
  /** Only for `github`: the step summary and outputs, for `writeGithubFiles` (the log is `chunks`). */
  github?: Pick<SyncGithubResult, 'summaryMarkdown' | 'outputs'>
}

/** Renders a sync run in the requested format, so the command only writes `stdout` (and the GitHub files). */
export function renderSync(result: SyncRunResult, format: SyncFormat, options: RenderSyncOptions): RenderSyncResult {
  switch (format) {
    case 'json':
      return printed(reiterable(() => syncJsonChunks(result, options)))
    case 'github': {
      const {summaryMarkdown, outputs} = renderSyncGithub(result, options)
      return printed(githubLogChunks(result, options), {github: {summaryMarkdown, outputs}})
    }
    case 'compact':
      return printed([renderSyncCompact(result)])
    case 'text':
      return printed(reiterable(() => syncTextChunks(result, options)))
  }
}

/** A generator function as an iterable that can be read more than once. */
export const reiterable = (chunks: () => Iterator<string>): Iterable<string> => ({[Symbol.iterator]: chunks})

/**
 * Chunks, and their text when asked for (joined once, so every read of `stdout` is one rendering: github's fence
 * tokens are random per rendering), with the properties of `more` as they are: a getter stays a getter, read only
 * when asked for (spreading would read it, and `stdout` with it, at once).
 */
export function printed<More extends object = object>(
  chunks: Iterable<string>,
  more?: More,
): {chunks: Iterable<string>; readonly stdout: string} & More {
  let text: string | undefined
  const shown = {
    chunks,
    get stdout() {
      text ??= [...chunks].join('')
      return text
    },
  }
  return Object.defineProperties(shown, Object.getOwnPropertyDescriptors(more ?? {})) as typeof shown & More
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything but the empty string (no-color.org). */
export const wantsColor = (isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean =>
  isTTY === true && !env.NO_COLOR

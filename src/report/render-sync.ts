import type {SyncRunResult} from '../sync/types.js'
import {stringifyJsonSafely} from '../util/untrusted-text.js'
import {renderSyncCompact} from './sync-compact.js'
import {renderSyncGithub, type SyncGithubResult} from './sync-github.js'
import {renderSyncJson} from './sync-json.js'
import {renderSyncText} from './sync-text.js'

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
  stdout: string
  /** Only for `github`: the caller hands it to `writeGithubFiles`. */
  github?: SyncGithubResult
}

/** Renders a sync run in the requested format, so the command only writes `stdout` (and the GitHub files). */
export function renderSync(result: SyncRunResult, format: SyncFormat, options: RenderSyncOptions): RenderSyncResult {
  switch (format) {
    case 'json':
      return {stdout: `${stringifyJsonSafely(renderSyncJson(result, options))}\n`}
    case 'github': {
      const github = renderSyncGithub(result, options)
      return {stdout: github.stdout, github}
    }
    case 'compact':
      return {stdout: renderSyncCompact(result)}
    case 'text':
      return {stdout: renderSyncText(result, options)}
  }
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything but the empty string (no-color.org). */
export const wantsColor = (isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean =>
  isTTY === true && !env.NO_COLOR

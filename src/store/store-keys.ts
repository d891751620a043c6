import {assertKeySpace} from '../util/key-space.js'
import {InternalError} from '../errors.js'

/**
 * Object keys of the merge store, exactly as docs/design.md §4 lays them out. `prefix` is used as given (the config
 * loader already ends a non-empty prefix with `/`).
 */
export interface StoreKeys {
  /** Folder of one target: its snapshots, `latest.json` and `applied/`. */
  targetFolder(target: string): string
  snapshot(target: string, version: number): string
  latest(target: string): string
  applied(target: string, account: string, region: string): string
  lock(target: string): string
  /** The version a key directly in the target folder names (`v12.json` → 12), or undefined for any other key. */
  versionOf(target: string, key: string): number | undefined
}

const VERSION_FILE = /^v([1-9]\d*)\.json$/

/** One path segment of a key: a real name, never empty, `.`, `..` or containing `/`. */
const segment = (what: string, value: string): string => {
  if (value === '' || value.includes('/'))
    throw new InternalError(
      `internal error: refusing ${what} ${JSON.stringify(value)} as one segment of a merge-store key`,
    )
  return assertKeySpace(what, value)
}

/** Every key stays inside `prefix`: the builders refuse any segment that would step out (never a write). */
export function storeKeys(prefix: string): StoreKeys {
  assertKeySpace('merge-store prefix', prefix, {trailingSlash: true})
  if (prefix.startsWith('/') || (prefix !== '' && !prefix.endsWith('/')))
    throw new InternalError(
      `internal error: merge-store prefix ${JSON.stringify(prefix)} must be empty or end with "/" and not start with it`,
    )
  const targetFolder = (target: string): string => `${prefix}${segment('target name', target)}/`
  return {
    targetFolder,
    snapshot: (target, version) => `${targetFolder(target)}v${version}.json`,
    latest: (target) => `${targetFolder(target)}latest.json`,
    applied: (target, account, region) =>
      `${targetFolder(target)}applied/${segment('account', account)}-${segment('region', region)}.json`,
    lock: (target) => `${prefix}locks/${segment('target name', target)}.json`,
    versionOf(target, key) {
      const folder = targetFolder(target)
      if (!key.startsWith(folder)) return undefined
      const match = VERSION_FILE.exec(key.slice(folder.length))
      const version = match ? Number(match[1]) : Number.NaN
      return Number.isSafeInteger(version) ? version : undefined
    },
  }
}

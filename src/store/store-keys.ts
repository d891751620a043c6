/**
 * Object keys of the merge store, exactly as DESIGN.md §4 lays them out. `prefix` is used as given (the config
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

export function storeKeys(prefix: string): StoreKeys {
  const targetFolder = (target: string): string => `${prefix}${target}/`
  return {
    targetFolder,
    snapshot: (target, version) => `${targetFolder(target)}v${version}.json`,
    latest: (target) => `${targetFolder(target)}latest.json`,
    applied: (target, account, region) => `${targetFolder(target)}applied/${account}-${region}.json`,
    lock: (target) => `${prefix}locks/${target}.json`,
    versionOf(target, key) {
      const folder = targetFolder(target)
      if (!key.startsWith(folder)) return undefined
      const match = VERSION_FILE.exec(key.slice(folder.length))
      const version = match ? Number(match[1]) : Number.NaN
      return Number.isSafeInteger(version) ? version : undefined
    },
  }
}

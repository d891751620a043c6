import type {VaultReader} from './vault-client.js'

/**
 * A reader that refuses new Vault requests once the run is asked to stop (SIGTERM/SIGINT), so a long walk ends
 * within seconds instead of reading the rest of the tree; requests already sent finish normally.
 */
export function stopAwareReader(reader: VaultReader, stop: AbortSignal): VaultReader {
  const checked = <T>(call: () => Promise<T>): Promise<T> =>
    stop.aborted ? Promise.reject(new Error('interrupted: the run was asked to stop')) : call()
  return {
    resolveMount: (path) => checked(() => reader.resolveMount(path)),
    list: (mount, folder) => checked(() => reader.list(mount, folder)),
    read: (mount, key) => checked(() => reader.read(mount, key)),
  }
}

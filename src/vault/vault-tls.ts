import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {VaultConfig} from '../config/schema.js'
import {ConfigError} from '../errors.js'

type Env = Readonly<Record<string, string | undefined>>

/** Where the CA for Vault's https connection comes from, as the vault CLI resolves it: the setting, then the variables. */
export function vaultCaSource(config: VaultConfig, env: Env): {name: string; file?: string; dir?: string} | undefined {
  const configured = config.tls?.ca_cert ?? config.ca_cert
  if (configured) return {name: config.tls?.ca_cert ? 'vault.tls.ca_cert' : 'vault.ca_cert', file: configured}
  // The vault CLI ignores VAULT_CAPATH when VAULT_CACERT is set.
  if (env.VAULT_CACERT) return {name: 'VAULT_CACERT', file: env.VAULT_CACERT}
  if (env.VAULT_CAPATH) return {name: 'VAULT_CAPATH', dir: env.VAULT_CAPATH}
  return undefined
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * The PEM certificates Vault's certificate is checked against, or undefined for the system's trust store. Like the
 * vault CLI, a private CA replaces the system roots for this connection. A file or folder without a certificate is a
 * config error naming the key or variable, never a silent fall-back.
 */
export async function readVaultCa(config: VaultConfig, env: Env): Promise<string[] | undefined> {
  const source = vaultCaSource(config, env)
  if (!source) return undefined
  const fail = (message: string): never => {
    throw new ConfigError([{file: source.file ?? source.dir ?? source.name, path: source.name, message}])
  }
  const certificatesIn = (text: string): string[] => text.match(PEM_CERTIFICATE) ?? []
  try {
    if (source.file) {
      const found = certificatesIn(await readFile(source.file, 'utf8'))
      return found.length > 0 ? found : fail('has no PEM certificate (-----BEGIN CERTIFICATE-----)')
    }
    const dir = source.dir as string
    const names = (await readdir(dir, {withFileTypes: true})).filter((entry) => entry.isFile()).map((e) => e.name)
    const found = (await Promise.all(names.sort().map((name) => readFile(join(dir, name), 'utf8')))).flatMap(
      certificatesIn,
    )
    return found.length > 0 ? found : fail('has no file with a PEM certificate')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    return fail(`cannot read CA certificate: ${(error as Error).message}`)
  }
}

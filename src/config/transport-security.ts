import type {KeyPath} from './locate.js'
import type {Config} from './schema.js'

/** One connection that carries a secret or a credential, named by the config key or variable that sets it. */
export interface CredentialEndpoint {
  /** `vault.address`, `aws.endpoint`, or an environment variable such as `AWS_ENDPOINT_URL_S3`. */
  name: string
  /** Set for config keys (to point at the line); undefined for environment variables. */
  path?: KeyPath
  url: string
}

export interface InsecureEndpoint extends CredentialEndpoint {
  host: string
}

export interface TransportSecurityResult {
  /** Plain http:// to a host that is not loopback. */
  insecure: InsecureEndpoint[]
  /** Problems that no setting allows (VAULT_SKIP_VERIFY). */
  refused: Array<{name: string; message: string}>
}

// The AWS SDK honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (S3, STS, SECRETS_MANAGER, ORGANIZATIONS, ...).
const AWS_ENDPOINT_VARIABLE = /^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$/
// Go's strconv.ParseBool false words: the only values of VAULT_SKIP_VERIFY that leave verification on in the vault CLI.
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False'])

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine (the sandbox, docker-compose). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase()
  if (host === 'localhost' || host === '[::1]') return true
  // WHATWG URL parsing has already normalised IPv4 forms (127.1, 0x7f.0.0.1) to dotted decimal.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** Every endpoint of this run that carries a secret or a credential, from the config and the environment. */
export function credentialEndpoints(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): CredentialEndpoint[] {
  const endpoints: CredentialEndpoint[] = []
  const key = (path: KeyPath, url: string | undefined) => {
    if (url) endpoints.push({name: path.join('.'), path, url})
  }
  key(['vault', 'address'], config.vault?.address)
  key(['aws', 'endpoint'], config.aws.endpoint)
  key(['merge_store', 'endpoint'], config.merge_store?.endpoint)
  for (const name of Object.keys(env).sort()) {
    const url = env[name]
    if (AWS_ENDPOINT_VARIABLE.test(name) && url) endpoints.push({name, url})
  }
  // The GitHub OIDC token request carries the job's request token.
  const auth = config.vault?.auth
  const oidcUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL
  if (auth?.method === 'jwt' && auth.jwt === undefined && auth.jwt_path === undefined && oidcUrl) {
    endpoints.push({name: 'ACTIONS_ID_TOKEN_REQUEST_URL', url: oidcUrl})
  }
  return endpoints
}

/**
 * The https-only rule: plain http:// is fine to loopback only; elsewhere it is a config error unless
 * `allow_insecure_http` is set. Certificate checks are never turned off, so a VAULT_SKIP_VERIFY that asks for it
 * is refused rather than ignored (the user would think it applied). Contacts nothing.
 */
export function checkTransportSecurity(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): TransportSecurityResult {
  const insecure: InsecureEndpoint[] = []
  for (const endpoint of credentialEndpoints(config, env)) {
    let url: URL
    try {
      url = new URL(endpoint.url)
    } catch {
      continue // not a URL: the schema (config keys) or the SDK (variables) reports it
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) insecure.push({...endpoint, host: url.hostname})
  }
  const refused: TransportSecurityResult['refused'] = []
  const skipVerify = env.VAULT_SKIP_VERIFY
  if (config.vault && skipVerify !== undefined && skipVerify !== '' && !GO_FALSE.has(skipVerify)) {
    refused.push({
      name: 'VAULT_SKIP_VERIFY',
      message:
        "is set, but secretsync never turns off Vault's certificate checks; unset it and give the CA that signed " +
        "Vault's certificate with vault.tls.ca_cert, VAULT_CACERT or VAULT_CAPATH",
    })
  }
  return {insecure, refused}
}

export const insecureHttpMessage = (endpoint: InsecureEndpoint): string =>
  `uses plain http:// to ${endpoint.host}, which is not loopback: secrets and credentials would cross the network ` +
  'unencrypted. Use https://, or set allow_insecure_http: true (top level) to allow it on purpose'

/** What a run with `allow_insecure_http: true` says at warn on every run (and `validate` among its warnings). */
export function insecureHttpWarning(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): {message: string; endpoints: string[]} | undefined {
  if (!config.allow_insecure_http) return undefined
  const endpoints = checkTransportSecurity(config, env).insecure.map(({name, host}) => `${name} (${host})`)
  return {
    message:
      'allow_insecure_http is set: secrets and credentials may travel unencrypted over plain http:// to hosts that are not loopback' +
      (endpoints.length > 0 ? `: ${endpoints.join(', ')}` : ''),
    endpoints,
  }
}

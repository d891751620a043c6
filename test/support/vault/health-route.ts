import {randomUUID} from 'node:crypto'
import {VaultError, type VaultResponse} from './responses.js'
import type {Route, RouteInput} from './route.js'

/** The Vault release this server answers as (the docker-compose image's version). */
export const VAULT_VERSION = '1.21.4'
const CLUSTER_ID = randomUUID()

/**
 * `GET|HEAD sys/health` (http/sys_health.go): unauthenticated, for load balancers and `vault status`. This server
 * is always initialized, unsealed and active, so it answers `activecode` (default 200); a status-code parameter
 * that is not an integer is 400, any other method 405 with `{"errors": []}`. HEAD answers the status alone.
 */
export function healthRoute(input: RouteInput): Route {
  return {
    operation: 'health',
    access: {kind: 'none'},
    handle: (): VaultResponse => {
      if (input.method !== 'GET' && input.method !== 'HEAD') throw new VaultError(405, [])
      const status = statusCode(input.query, 'activecode', 200)
      if (input.method === 'HEAD') return {status}
      return {
        status,
        body: {
          initialized: true,
          sealed: false,
          standby: false,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000),
          version: VAULT_VERSION,
          enterprise: false,
          cluster_name: 'vault-cluster-secretsync-test',
          cluster_id: CLUSTER_ID,
          echo_duration_ms: 0,
          clock_skew_ms: 0,
        },
      }
    },
  }
}

/** `fetchStatusCode`: a `?<field>=<int>` override of a default status code. */
function statusCode(query: URLSearchParams, field: string, fallback: number): number {
  const text = query.get(field)
  if (text === null) return fallback
  const code = Number(text)
  if (!/^\d+$/.test(text) || code < 100 || code > 999) throw new VaultError(400, [])
  return code
}

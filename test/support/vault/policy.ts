/** A Vault ACL capability this server enforces. */
export type Capability = 'read' | 'list' | 'create' | 'update' | 'delete' | 'deny'

/**
 * One path rule of a Vault ACL policy. `path` is matched as Vault does: exact, or a prefix when it ends in
 * `*`, and a whole `+` segment matches any one segment (`secret/data/+/config`).
 */
export interface Policy {
  path: string
  capabilities: Capability[]
  /** Policy name reported in `auth.policies` and `lookup-self` (default `inline`). */
  name?: string
}

interface WildcardRule {
  pattern: string
  capabilities: Set<Capability>
  regex: RegExp
  /** Index of the first `+` or `*`: a later wildcard is more specific. */
  firstWildcard: number
  glob: boolean
  plusSegments: number
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function compileWildcard(pattern: string, capabilities: Set<Capability>): WildcardRule {
  const glob = pattern.endsWith('*')
  const body = glob ? pattern.slice(0, -1) : pattern
  const segments = body.split('/')
  const regex = segments.map((segment) => (segment === '+' ? '[^/]*' : escapeRegex(segment))).join('/')
  const plusAt = segments.findIndex((s) => s === '+')
  const plusIndex = plusAt === -1 ? -1 : segments.slice(0, plusAt).join('/').length + (plusAt > 0 ? 1 : 0)
  return {
    pattern,
    capabilities,
    regex: new RegExp(`^${regex}${glob ? '.*' : ''}$`, 's'),
    firstWildcard: plusIndex === -1 ? body.length : Math.min(plusIndex, body.length),
    glob,
    plusSegments: segments.filter((s) => s === '+').length,
  }
}

/**
 * Vault's documented priority between matching wildcard paths ("Priority matching" in the policies docs):
 * a later first wildcard, no trailing `*`, fewer `+`, a longer path, then the lexically greater one wins.
 */
function morePrecise(a: WildcardRule, b: WildcardRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard > b.firstWildcard
  if (a.glob !== b.glob) return !a.glob
  if (a.plusSegments !== b.plusSegments) return a.plusSegments < b.plusSegments
  if (a.pattern.length !== b.pattern.length) return a.pattern.length > b.pattern.length
  return a.pattern > b.pattern
}

const grants = (caps: Set<Capability> | undefined): boolean => caps !== undefined && caps.size > 0 && !caps.has('deny')

/**
 * The merged ACL of a token's policies. Rules for the same path are unioned across policies (a `deny` wins);
 * an exact rule beats wildcards, and among wildcards the most precise match decides alone, as in Vault.
 */
export class Acl {
  private readonly exact = new Map<string, Set<Capability>>()
  private readonly wildcards: WildcardRule[] = []

  constructor(
    policies: readonly Policy[],
    private readonly root = false,
  ) {
    const merged = new Map<string, Set<Capability>>()
    for (const policy of policies) {
      const caps = merged.get(policy.path) ?? new Set<Capability>()
      for (const cap of policy.capabilities) caps.add(cap)
      merged.set(policy.path, caps)
    }
    for (const [pattern, caps] of merged) {
      if (pattern.endsWith('*') || pattern.split('/').includes('+')) this.wildcards.push(compileWildcard(pattern, caps))
      else this.exact.set(pattern, caps)
    }
  }

  /** The capabilities that apply to `path` (empty when no rule matches). */
  capabilities(path: string): Set<Capability> {
    const exact = this.exact.get(path)
    if (exact) return exact
    let best: WildcardRule | undefined
    for (const rule of this.wildcards) {
      if (rule.regex.test(path) && (best === undefined || morePrecise(rule, best))) best = rule
    }
    return best?.capabilities ?? new Set()
  }

  allows(path: string, capability: Capability): boolean {
    if (this.root) return true
    const caps = this.capabilities(path)
    return !caps.has('deny') && caps.has(capability)
  }

  /**
   * Vault's `hasMountAccess` (vault/logical_system.go), used by `sys/internal/ui/mounts/<path>`: any token may
   * resolve a mount when it has some non-deny capability on the mount path itself or on any path below it.
   */
  hasMountAccess(mountPath: string): boolean {
    if (this.root) return true
    if (grants(this.capabilities(mountPath))) return true
    for (const [path, caps] of this.exact) if (path.startsWith(mountPath) && grants(caps)) return true
    const mountSegments = mountPath.replace(/\/$/, '').split('/')
    for (const rule of this.wildcards) {
      if (!grants(rule.capabilities)) continue
      const prefix = rule.glob ? rule.pattern.slice(0, -1) : rule.pattern
      if (prefix.startsWith(mountPath) || segmentsCover(prefix.split('/'), mountSegments, rule.glob)) return true
    }
    return false
  }
}

/** Whether a rule's leading segments can match every segment of the mount path (`+/data/*` covers `kv/`). */
function segmentsCover(rule: string[], mount: string[], glob: boolean): boolean {
  if (rule.length < mount.length) return false
  return mount.every((segment, i) => {
    const part = rule[i] ?? ''
    if (part === '+') return true
    return glob && i === rule.length - 1 ? segment.startsWith(part) : segment === part
  })
}

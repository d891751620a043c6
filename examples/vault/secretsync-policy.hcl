# Vault policy for secretsync: read-only access to the KV v2 subtrees it walks, nothing else.
#
#   vault policy write secretsync examples/vault/secretsync-policy.hcl
#
# Written for the sources of examples/secretsync.yaml (KV v2 mount "secret", subtrees base/ and production/).
# Add a pair of blocks per vault_sources entry: a source "mount: <mount>/<path>/" needs
# <mount>/data/<path>/* read (secret values; the answer also carries the version's deletion state) and
# <mount>/metadata/<path>/* list (folder listings: key names only, no values, no metadata read).
# In a Vault Enterprise namespace, write the policy inside that namespace; paths are relative to it.
# Vault denies everything not granted here: secretsync never writes to Vault.

# Source "base" (mount: secret/base/).
path "secret/data/base/*" {
  capabilities = ["read"]
}
path "secret/metadata/base/*" {
  capabilities = ["list"]
}

# Source "production" (mount: secret/production/).
path "secret/data/production/*" {
  capabilities = ["read"]
}
path "secret/metadata/production/*" {
  capabilities = ["list"]
}

# Mount root: only for a source that walks a whole mount ("mount: secret/"), whose walk starts with
# LIST secret/metadata/. Delete this block if no source does.
path "secret/metadata/" {
  capabilities = ["list"]
}

# Mount resolution, as the vault CLI does it: which mount (and KV version) serves a path. Without it
# secretsync falls back to the first path segment, which breaks nested mounts such as "team/kv/".
path "sys/internal/ui/mounts/*" {
  capabilities = ["read"]
}

# Token upkeep: look up the TTL (and tell an expired token from a denied path), renew during long runs.
# Vault's built-in "default" policy grants both; keep these for tokens created without it (no_default_policy).
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}

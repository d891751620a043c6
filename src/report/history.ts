import type {VersionListResult, VersionShowResult} from '../versions/history.js'
import {stringifyJson} from '../util/exact-json.js'
import {guardLines, untrusted} from '../util/untrusted-text.js'

// Snapshots come from the merge store: their paths, keys, values and run ids are untrusted text like Vault's.

export function renderVersionList(result: VersionListResult): string {
  const title = result.path
    ? untrusted`versions of ${result.target} where ${result.path} changed`
    : untrusted`snapshots of ${result.target}`
  if (result.versions.length === 0) return `${title}: none\n`
  const lines = result.versions.map((v) =>
    v.error !== null
      ? untrusted`  v${v.version}${v.latest ? ' (latest)' : ''}  CORRUPT: ${v.error}`
      : untrusted`  v${v.version}${v.latest ? ' (latest)' : ''}  ${v.created_at}  run ${v.run_id}  ${v.secrets} secret${v.secrets === 1 ? '' : 's'}${v.change ? `  ${v.change}` : ''}`,
  )
  return `${guardLines(`${title}:\n${lines.join('\n')}`)}\n`
}

export function renderVersionShow(result: VersionShowResult): string {
  const lines = [
    untrusted`${result.target} v${result.version}  created ${result.created_at}  run ${result.run_id}  sources ${result.sources.join(', ') || '(none)'}`,
  ]
  for (const [path, secret] of Object.entries(result.secrets)) {
    lines.push(untrusted`  ${path}`)
    for (const [key, value] of Object.entries(secret))
      lines.push(untrusted`    ${key}: ${typeof value === 'string' ? value : stringifyJson(value)}`)
  }
  return `${guardLines(lines.join('\n'))}\n`
}

const units: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}
const pattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/

/** Parses `500ms`, `30s`, `10m`, `1h` into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = pattern.exec(text.trim())
  if (!match) return undefined
  const [, amount, unit] = match
  return Math.round(Number(amount) * (units[unit as string] as number))
}

export const formatDuration = (ms: number): string => {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

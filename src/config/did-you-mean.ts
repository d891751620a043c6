/** Levenshtein distance, small inputs only (config keys). */
function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] as number
}

/** The closest candidate within a third of the word's length (at least 2 edits), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3))
  let best: {candidate: string; score: number} | undefined
  for (const candidate of candidates) {
    const score = distance(word.toLowerCase(), candidate.toLowerCase())
    if (score <= limit && (!best || score < best.score)) best = {candidate, score}
  }
  return best?.candidate
}

export const didYouMean = (word: string, candidates: readonly string[]): string => {
  const match = closest(word, candidates)
  return match ? ` (did you mean "${match}"?)` : ''
}

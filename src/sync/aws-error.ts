/** An AWS SDK error as reasons name it: `<ErrorName>: <message>` (never a value: AWS messages name secrets, not values). */
export const describeAwsError = (error: unknown): string => {
  const e = error as {name?: string; message?: string}
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`
}

import {AwsError} from './types.js'

/** The `Filter` structure of ListSecrets and BatchGetSecretValue. */
export interface SecretFilter {
  Key: string
  Values: string[]
}

/** What a filter can see of a secret (never its value). */
export interface FilterableSecret {
  name: string
  description?: string
  tags: Array<{Key: string; Value: string}>
}

const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all']
const VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/

const validation = (message: string): AwsError =>
  new AwsError('ValidationException', `1 validation error detected: ${message}`)

/**
 * Checks `Filters` against the model's constraints (at most 10 filters of at most 10 values, key from the
 * documented enum, value pattern and length) and returns them typed. Model violations are `ValidationException`s.
 */
export function parseFilters(raw: unknown): SecretFilter[] {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) throw new AwsError('SerializationException', 'Filters must be a list')
  if (raw.length > 10)
    throw validation(
      "Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10",
    )
  return raw.map((entry: unknown, i) => {
    const at = `filters.${i + 1}.member`
    const {Key: key, Values: values} = (entry ?? {}) as {Key?: unknown; Values?: unknown}
    if (typeof key !== 'string' || !FILTER_KEYS.includes(key)) {
      throw validation(
        `Value '${String(key)}' at '${at}.key' failed to satisfy constraint: Member must satisfy enum value set: [${FILTER_KEYS.join(', ')}]`,
      )
    }
    if (values === undefined) return {Key: key, Values: []}
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
      throw new AwsError('SerializationException', `${at}.values must be a list of strings`)
    }
    if (values.length < 1 || values.length > 10) {
      throw validation(`Value at '${at}.values' failed to satisfy constraint: Member must have length between 1 and 10`)
    }
    for (const value of values as string[]) {
      if (value.length > 512 || !VALUE_PATTERN.test(value)) {
        throw validation(
          `Value '${value}' at '${at}.values' failed to satisfy constraint: Member must have length less than or equal to 512 and match pattern ${VALUE_PATTERN.source}`,
        )
      }
    }
    return {Key: key, Values: values as string[]}
  })
}

/**
 * Splits text into the words the `all` filter compares: runs of letters or digits, further cut where lower case
 * turns to upper case (`credsDatabase#892` → creds, Database, 892), as the user guide describes.
 */
export const splitWords = (text: string): string[] =>
  text
    .split(/[^A-Za-z0-9]+/)
    .flatMap((chunk) => chunk.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [])
    .filter((word) => word !== '')

type Matcher = (attribute: string, query: string) => boolean

const prefix: Matcher = (attribute, query) => attribute.startsWith(query)
const prefixIgnoringCase: Matcher = (attribute, query) => attribute.toLowerCase().startsWith(query.toLowerCase())
/** `all`: any word of the query starts any word of the attribute, ignoring case. */
const anyWord: Matcher = (attribute, query) => {
  const words = splitWords(attribute).map((w) => w.toLowerCase())
  return splitWords(query).some((q) => words.some((w) => w.startsWith(q.toLowerCase())))
}

function attributesFor(key: string, secret: FilterableSecret): {attributes: string[]; match: Matcher} {
  const tagKeys = secret.tags.map((t) => t.Key)
  const tagValues = secret.tags.map((t) => t.Value)
  const description = secret.description === undefined ? [] : [secret.description]
  switch (key) {
    case 'name':
      return {attributes: [secret.name], match: prefix}
    case 'description':
      return {attributes: description, match: prefixIgnoringCase}
    case 'tag-key':
      return {attributes: tagKeys, match: prefix}
    case 'tag-value':
      return {attributes: tagValues, match: prefix}
    case 'all':
      return {attributes: [secret.name, ...description, ...tagKeys, ...tagValues], match: anyWord}
    default:
      // primary-region and owning-service: this server has no replicas and no service-owned secrets.
      return {attributes: [], match: prefix}
  }
}

/**
 * Filters are ANDed; the values of one filter are ORed. A value starting with `!` negates: the secret must have no
 * attribute matching it. A filter with only negations matches every secret the negations do not exclude.
 */
export function matchesFilters(secret: FilterableSecret, filters: SecretFilter[]): boolean {
  return filters.every((filter) => {
    const {attributes, match} = attributesFor(filter.Key, secret)
    const hits = (query: string): boolean => attributes.some((attribute) => match(attribute, query))
    const positives = filter.Values.filter((v) => !v.startsWith('!'))
    const negatives = filter.Values.filter((v) => v.startsWith('!')).map((v) => v.slice(1))
    return (positives.length === 0 || positives.some(hits)) && !negatives.some(hits)
  })
}

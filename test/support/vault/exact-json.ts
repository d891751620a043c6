import {LosslessNumber, parse, stringify} from 'lossless-json'

// Vault decodes request bodies with Go's json.Decoder and UseNumber, and KV v2 stores `data` as it came: numbers
// keep their text (`1152921504606846977`, `1e400`, `1.0`) and every key is kept (`__proto__` too). The fake does
// the same with lossless-json: a number stays a JS number only when that prints back as the same text.
const parseNumber = (text: string): number | LosslessNumber =>
  JSON.stringify(Number(text)) === text ? Number(text) : new LosslessNumber(text)

/** Parses a request body (or stored data) keeping every number's text; a duplicate key keeps the last value, as Go does. */
export const parseVaultJson = (text: string): unknown =>
  parse(text, null, {parseNumber, onDuplicateKey: ({newValue}) => newValue})

/** Serialises a response body (or data to store) with numbers as their exact text. */
export const stringifyVaultJson = (value: unknown): string => stringify(value) ?? 'null'

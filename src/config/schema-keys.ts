import type {z} from 'zod'
import type {KeyPath} from './locate.js'
import {configSchema} from './schema.js'

type AnySchema = z.core.$ZodType

// Wrappers that hold one inner schema; objects and arrays are walked by key and index.
function unwrap(schema: AnySchema): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & {type: string}
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
      return unwrap(def.innerType as AnySchema)
    case 'pipe':
      return unwrap(def.in as AnySchema)
    case 'union':
      return (def.options as AnySchema[]).flatMap(unwrap)
    default:
      return [schema]
  }
}

/** The keys the schema allows at a key path (for "did you mean"). */
export function allowedKeysAt(path: KeyPath): string[] {
  let current: AnySchema[] = unwrap(configSchema)
  for (const segment of path) {
    const next: AnySchema[] = []
    for (const schema of current) {
      const def = schema._zod.def as unknown as Record<string, unknown> & {type: string}
      if (def.type === 'object' && typeof segment === 'string') {
        const child = (def.shape as Record<string, AnySchema>)[segment]
        if (child) next.push(...unwrap(child))
      } else if (def.type === 'array' && typeof segment === 'number') {
        next.push(...unwrap(def.element as AnySchema))
      }
    }
    current = next
  }
  const keys = new Set<string>()
  for (const schema of current) {
    const def = schema._zod.def as unknown as Record<string, unknown> & {type: string}
    if (def.type === 'object') for (const key of Object.keys(def.shape as object)) keys.add(key)
  }
  return [...keys]
}

/**
 * Path selection for one import (`imports: [{name, include, exclude}]`): globs on relative secret paths, `*`
 * within one segment, `**` as a whole segment across any number of them (`svc/**` is everything below `svc/`,
 * `**\/db` a `db` at any depth). A path is selected when it matches an include (or there is none) and no exclude.
 */

export interface PathSelection {
  include?: readonly string[]
  exclude: readonly string[]
}

/** Why `glob` is not a path glob, or undefined. */
export function globProblem(glob: string): string | undefined {
  if (glob.startsWith('/')) return 'a path glob is relative to the source: no leading "/"'
  const segments = glob.split('/')
  if (segments.some((segment) => segment === '')) return 'a path glob must not have an empty segment ("//")'
  if (segments.some((segment) => segment.includes('**') && segment !== '**'))
    return '"**" must be a whole segment, like svc/** or **/db'
  return undefined
}

const escape = (text: string): string => text.replace(/[.+^${}()|[\]\\?]/g, '\\$&')

function globRegex(glob: string): RegExp {
  const segments = glob.split('/')
  let source = ''
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1
    if (segment === '**') source += last ? '.+' : '(?:[^/]+/)*'
    else source += segment.split('*').map(escape).join('[^/]*') + (last ? '' : '/')
  })
  return new RegExp(`^${source}$`, 's')
}

/** A predicate for one selection; globs are compiled once. */
export function pathSelector(selection: PathSelection): (path: string) => boolean {
  const include = selection.include?.map(globRegex)
  const exclude = selection.exclude.map(globRegex)
  return (path) =>
    (include === undefined || include.some((re) => re.test(path))) && !exclude.some((re) => re.test(path))
}

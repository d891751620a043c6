/** What a GitHub Actions job needs for an OIDC token: both variables exist only with `permissions: id-token: write`. */
export interface GithubOidcRequest {
  url: string
  requestToken: string
  /** The token's `aud`; unset, GitHub's default (`https://github.com/<owner>`), as hashicorp/vault-action does. */
  audience?: string
  timeoutMs: number
}

/**
 * Asks GitHub for the job's OIDC token the way @actions/core's getIDToken does: GET the request URL (with
 * `&audience=` when one is configured) with the request token as a bearer credential; the answer is `{"value": jwt}`.
 * Errors name the status only: the request token and the JWT never appear in them.
 */
export async function requestGithubOidcToken(request: GithubOidcRequest): Promise<string> {
  const url = request.audience ? `${request.url}&audience=${encodeURIComponent(request.audience)}` : request.url
  let response: Response
  try {
    response = await fetch(url, {
      headers: {Authorization: `bearer ${request.requestToken}`, Accept: 'application/json'},
      signal: AbortSignal.timeout(request.timeoutMs),
    })
  } catch (error) {
    throw new Error(`the GitHub OIDC token request failed: ${(error as Error).message}`)
  }
  if (!response.ok) {
    throw new Error(
      `the GitHub OIDC token request answered HTTP ${response.status}` +
        (response.status === 401 || response.status === 403
          ? ' (does the job have permissions: id-token: write?)'
          : ''),
    )
  }
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  const value = (body as {value?: unknown} | undefined)?.value
  if (typeof value !== 'string' || value === '') throw new Error('the GitHub OIDC token response has no "value"')
  return value
}

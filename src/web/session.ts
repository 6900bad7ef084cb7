/**
 * The bearer token the user logged in with, kept in `sessionStorage`: it lasts as long as the tab, is not sent by
 * the browser on its own (no cookie, so another site's page has nothing to borrow), and a logout forgets it.
 */

const KEY = "orchestrate.token"

export const storedToken = (): string | undefined => {
  const token = sessionStorage.getItem(KEY)
  return token === null || token === "" ? undefined : token
}

export const storeToken = (token: string): void => sessionStorage.setItem(KEY, token)

export const forgetToken = (): void => sessionStorage.removeItem(KEY)

/** The headers that identify the caller: the token as `Authorization: Bearer`, when there is one. */
export const authorization = (): Record<string, string> => {
  const token = storedToken()
  return token === undefined ? {} : { authorization: `Bearer ${token}` }
}

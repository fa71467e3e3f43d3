// Signing in to the stack's Cognito user pool through its hosted sign-in pages, for the training routes
// (the jobs authorizer wants `Authorization: Bearer <token>` of that pool and the web app's client). It is
// the OAuth 2.0 authorization code flow with PKCE (RFC 7636), the flow for a browser app, which can keep no
// secret: the page goes to the pool's /oauth2/authorize, comes back with a one-time code, and trades the
// code and the verifier only this page knew for tokens at /oauth2/token. Tokens stay in this tab's
// sessionStorage (gone when the tab closes; never localStorage, which every tab and every later visit share);
// the access token is refreshed before it expires, and a failed refresh signs out. Signing out revokes the
// refresh token at /oauth2/revoke (and with it the tokens it gave) and forgets the user's own model files.

export interface AuthConfig {
  /** The user pool's sign-in domain, e.g. https://fns-1234.auth.eu-west-1.amazoncognito.com */
  domain: string;
  /** The web app's client of the pool (no secret). */
  clientId: string;
}

export interface Auth {
  /** Who is signed in (their e-mail where the token has it), or null. */
  user(): { email: string | null } | null;
  /** Goes to the hosted sign-in page; the page comes back to where it is now. */
  signIn(): Promise<void>;
  /** At page load: finishes a sign-in the address bar carries (?code=&state=); true when it did. */
  complete(): Promise<boolean>;
  /** The Authorization header value for the training routes, refreshed when due; null when signed out. */
  authorization(): Promise<string | null>;
  /** Revokes the refresh token, forgets the tokens (and what `onSignOut` forgets: the user's files), then signs
   * out of the hosted pages too. */
  signOut(): Promise<void>;
}

export interface AuthOptions {
  /** What else sign-out forgets before the page leaves: the user's own model files on this device. */
  onSignOut?(): Promise<void>;
}

/** What the flow touches in the browser; tests pass their own. */
export interface AuthEnv {
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /** Where an older version of the app kept the tokens (localStorage): emptied at start. */
  legacyStorage?: Pick<Storage, "removeItem">;
  fetch: typeof fetch;
  /** The page's address now. */
  href(): string;
  /** Leaves the page for another address. */
  go(url: string): void;
  /** Replaces the address shown without loading (drops ?code= after a sign-in). */
  replace(url: string): void;
  now(): number;
}

interface Tokens {
  access: string;
  id: string;
  refresh: string | null;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const TOKENS_KEY = "fast-neural-style.auth.tokens";
const PENDING_KEY = "fast-neural-style.auth.pending";
const REFRESH_MARGIN_MS = 60_000; // refresh a minute early: a request in flight should not meet an expired token
const REVOKE_TIMEOUT_MS = 5_000; // sign-out goes on without the answer: the tokens are forgotten here anyway

export function createAuth(config: AuthConfig, env: AuthEnv = browserEnv(), options: AuthOptions = {}): Auth {
  const domain = config.domain.replace(/\/+$/, "");
  for (const key of [TOKENS_KEY, PENDING_KEY]) {
    try {
      env.legacyStorage?.removeItem(key);
    } catch {
      // storage refused (a privacy mode): nothing was kept there either
    }
  }
  const read = <T>(key: string): T | null => {
    try {
      return JSON.parse(env.storage.getItem(key) ?? "null") as T | null;
    } catch {
      return null;
    }
  };
  const save = (tokens: Tokens | null) =>
    tokens ? env.storage.setItem(TOKENS_KEY, JSON.stringify(tokens)) : env.storage.removeItem(TOKENS_KEY);

  /** The tokens from a /oauth2/token answer (a refresh keeps the refresh token it was given). */
  async function tokenRequest(fields: Record<string, string>, keepRefresh: string | null = null): Promise<Tokens> {
    const response = await env.fetch(`${domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: config.clientId, ...fields }).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok || typeof body.access_token !== "string" || typeof body.id_token !== "string") {
      throw new Error(`sign-in failed: ${String(body.error ?? `HTTP ${response.status}`)}`);
    }
    return {
      access: body.access_token,
      id: body.id_token,
      refresh: typeof body.refresh_token === "string" ? body.refresh_token : keepRefresh,
      expiresAt: env.now() + Number(body.expires_in ?? 3600) * 1000,
    };
  }

  return {
    user() {
      const tokens = read<Tokens>(TOKENS_KEY);
      if (!tokens) return null;
      const email = claims(tokens.id).email;
      return { email: typeof email === "string" ? email : null };
    },

    async signIn() {
      const verifier = randomText(48);
      const state = randomText(24);
      const back = pageAddress(env.href());
      env.storage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, back }));
      const query = new URLSearchParams({
        response_type: "code",
        client_id: config.clientId,
        redirect_uri: back,
        scope: "openid email",
        state,
        code_challenge: await challengeOf(verifier),
        code_challenge_method: "S256",
      });
      env.go(`${domain}/oauth2/authorize?${query}`);
    },

    async complete() {
      const url = new URL(env.href());
      const code = url.searchParams.get("code");
      const pending = read<{ verifier: string; state: string; back: string }>(PENDING_KEY);
      if (!code && !url.searchParams.has("error")) return false;
      env.storage.removeItem(PENDING_KEY);
      env.replace(pageAddress(env.href()));
      // A code this page did not ask for (another tab's, or a forged link) is dropped unused.
      if (!code || !pending || url.searchParams.get("state") !== pending.state) return false;
      save(await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: pending.back, code_verifier: pending.verifier }));
      return true;
    },

    async authorization() {
      let tokens = read<Tokens>(TOKENS_KEY);
      if (!tokens) return null;
      if (env.now() > tokens.expiresAt - REFRESH_MARGIN_MS) {
        try {
          if (!tokens.refresh) throw new Error("no refresh token");
          tokens = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh }, tokens.refresh);
          save(tokens);
        } catch {
          save(null); // expired for good: the training routes answer 401 and the app offers sign-in again
          return null;
        }
      }
      return `Bearer ${tokens.access}`;
    },

    async signOut() {
      const tokens = read<Tokens>(TOKENS_KEY);
      save(null);
      env.storage.removeItem(PENDING_KEY);
      // RFC 7009: the refresh token (and the access and ID tokens it gave) stop working at the pool, so a copy
      // taken from this browser is worth nothing. Best effort, bounded: the page leaves whatever the answer.
      const revoke = tokens?.refresh
        ? env.fetch(`${domain}/oauth2/revoke`, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ token: tokens.refresh, client_id: config.clientId }).toString(),
            signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS),
          })
        : Promise.resolve();
      await Promise.allSettled([revoke, options.onSignOut?.()]);
      const query = new URLSearchParams({ client_id: config.clientId, logout_uri: pageAddress(env.href()) });
      env.go(`${domain}/logout?${query}`);
    },
  };
}

/** A fetch that sends the signed-in user's token (when there is one), asked for afresh on each request so that
 * a refreshed token is used. Made once at start and given to the API client, for the training routes, and to
 * the device, for the model files those routes serve (a user's own style). */
export function authorizedFetch(authorization: Auth["authorization"], fetchImpl: typeof fetch = (...args) => fetch(...args)): typeof fetch {
  return async (input, init = {}) => {
    const token = await authorization();
    if (!token) return fetchImpl(input, init);
    const headers = new Headers(init.headers);
    headers.set("Authorization", token);
    return fetchImpl(input, { ...init, headers });
  };
}

/** The page's address without query or fragment: where the hosted pages send the browser back. */
function pageAddress(href: string): string {
  const url = new URL(href);
  return `${url.origin}${url.pathname}`;
}

/** A JWT's claims, unverified: only to show who is signed in (the server verifies every token). */
function claims(jwt: string): Record<string, unknown> {
  try {
    const part = jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** RFC 7636's S256 code challenge: base64url(SHA-256(verifier)). */
export async function challengeOf(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

function browserEnv(): AuthEnv {
  return {
    storage: sessionStorage,
    legacyStorage: localStorage,
    fetch: (...args) => fetch(...args),
    href: () => location.href,
    go: (url) => location.assign(url),
    replace: (url) => history.replaceState(history.state, "", url),
    now: () => Date.now(),
  };
}

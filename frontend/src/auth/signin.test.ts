import { describe, expect, it, vi } from "vitest";
import { createApi } from "../api/client";
import { fetchCached } from "../device/cache";
import { deviceModelFor } from "../device/models";
import { styleOf } from "../features/own-styles/useOwnStyles";
import { authorizedFetch, challengeOf, createAuth, type AuthEnv } from "./signin";

const CONFIG = { domain: "https://fns-1.auth.eu-west-1.amazoncognito.com", clientId: "client123" };
const SITE = "https://d111.cloudfront.net/";

const jwt = (claims: object) => `h.${btoa(JSON.stringify(claims)).replace(/=+$/, "")}.s`;

function browser(href = SITE) {
  const items = new Map<string, string>();
  const went: string[] = [];
  const tokenCalls: URLSearchParams[] = [];
  const revokeCalls: URLSearchParams[] = [];
  const answers: Response[] = [];
  let now = 1_000_000;
  const env: AuthEnv = {
    storage: {
      getItem: (k) => items.get(k) ?? null,
      setItem: (k, v) => void items.set(k, v),
      removeItem: (k) => void items.delete(k),
    },
    fetch: vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      if (String(url) === `${CONFIG.domain}/oauth2/revoke`) {
        revokeCalls.push(new URLSearchParams(String(init?.body)));
        return new Response(null, { status: 200 });
      }
      expect(String(url)).toBe(`${CONFIG.domain}/oauth2/token`);
      tokenCalls.push(new URLSearchParams(String(init?.body)));
      return answers.shift() ?? Response.json({ error: "invalid_grant" }, { status: 400 });
    }) as unknown as typeof fetch,
    href: () => href,
    go: (url) => void went.push(url),
    replace: (url) => void (href = url),
    now: () => now,
  };
  return {
    env, went, tokenCalls, revokeCalls, answers, items,
    visit: (url: string) => void (href = url),
    later: (ms: number) => void (now += ms),
  };
}

const tokens = (access: string, extra: object = {}) =>
  Response.json({ access_token: access, id_token: jwt({ email: "ada@example.com" }), expires_in: 3600, token_type: "Bearer", ...extra });

describe("signing in (authorization code with PKCE)", () => {
  it("goes to the hosted page with an S256 challenge, trades the code once, and sends the token", async () => {
    const b = browser(`${SITE}?photo=1#top`);
    const auth = createAuth(CONFIG, b.env);
    expect(auth.user()).toBeNull();
    await auth.signIn();
    const authorize = new URL(b.went[0]!);
    expect(authorize.origin + authorize.pathname).toBe(`${CONFIG.domain}/oauth2/authorize`);
    const query = Object.fromEntries(authorize.searchParams);
    expect(query).toMatchObject({ response_type: "code", client_id: "client123", redirect_uri: SITE, code_challenge_method: "S256" });
    const pending = JSON.parse(b.items.get("fast-neural-style.auth.pending")!);
    expect(query.code_challenge).toBe(await challengeOf(pending.verifier)); // the verifier never leaves the page

    // Back from the hosted page: the code and the state come in the address.
    b.visit(`${SITE}?code=abc&state=${query.state}`);
    b.answers.push(tokens("access-1", { refresh_token: "refresh-1" }));
    expect(await auth.complete()).toBe(true);
    expect(Object.fromEntries(b.tokenCalls[0]!)).toEqual({
      client_id: "client123", grant_type: "authorization_code", code: "abc", redirect_uri: SITE, code_verifier: pending.verifier,
    });
    expect(b.env.href()).toBe(SITE); // the code is gone from the address bar
    expect(auth.user()).toEqual({ email: "ada@example.com" });
    expect(await auth.authorization()).toBe("Bearer access-1");
    expect(await auth.complete()).toBe(false); // nothing more to do on a later load
  });

  it("drops a code it did not ask for", async () => {
    const b = browser();
    const auth = createAuth(CONFIG, b.env);
    await auth.signIn();
    b.visit(`${SITE}?code=stolen&state=not-ours`);
    expect(await auth.complete()).toBe(false);
    expect(b.tokenCalls).toEqual([]);
    expect(await auth.authorization()).toBeNull();
  });

  it("refreshes an expiring token, and signs out when the refresh is refused", async () => {
    const b = browser();
    const auth = createAuth(CONFIG, b.env);
    await auth.signIn();
    b.visit(`${SITE}?code=abc&state=${new URL(b.went[0]!).searchParams.get("state")}`);
    b.answers.push(tokens("access-1", { refresh_token: "refresh-1" }));
    await auth.complete();
    b.later(3600_000 - 30_000); // within a minute of expiry
    b.answers.push(tokens("access-2"));
    expect(await auth.authorization()).toBe("Bearer access-2");
    expect(Object.fromEntries(b.tokenCalls[1]!)).toEqual({ client_id: "client123", grant_type: "refresh_token", refresh_token: "refresh-1" });
    expect(await auth.authorization()).toBe("Bearer access-2"); // fresh: no call
    expect(b.tokenCalls).toHaveLength(2);
    // Due again: the refresh token kept from the first answer is refused, and the tokens are forgotten.
    b.later(3600_000);
    expect(await auth.authorization()).toBeNull();
    expect(b.tokenCalls[2]!.get("refresh_token")).toBe("refresh-1");
    expect(auth.user()).toBeNull();
  });

  it("signs out of the hosted pages too", async () => {
    const b = browser(`${SITE}?x=1`);
    await createAuth(CONFIG, b.env).signOut();
    const logout = new URL(b.went[0]!);
    expect(logout.pathname).toBe("/logout");
    expect(Object.fromEntries(logout.searchParams)).toEqual({ client_id: "client123", logout_uri: SITE });
    expect(b.revokeCalls).toEqual([]); // signed out already: nothing to revoke
  });

  it("revokes the refresh token and forgets the user's files before it leaves the page", async () => {
    const b = browser();
    const forgotten = vi.fn(async () => {});
    const auth = createAuth(CONFIG, b.env, { onSignOut: forgotten });
    await auth.signIn();
    b.visit(`${SITE}?code=abc&state=${new URL(b.went[0]!).searchParams.get("state")}`);
    b.answers.push(tokens("access-1", { refresh_token: "refresh-1" }));
    await auth.complete();

    await auth.signOut();
    expect(b.revokeCalls.map((body) => Object.fromEntries(body))).toEqual([{ token: "refresh-1", client_id: "client123" }]);
    expect(forgotten).toHaveBeenCalledOnce();
    expect(b.items.size).toBe(0); // no token, no pending sign-in left behind
    expect(auth.user()).toBeNull();
    expect(new URL(b.went.at(-1)!).pathname).toBe("/logout");
  });

  it("leaves the page even when the pool or the cache fail", async () => {
    const b = browser();
    b.items.set("fast-neural-style.auth.tokens", JSON.stringify({ access: "a", id: jwt({}), refresh: "r", expiresAt: 0 }));
    b.env.fetch = vi.fn(async () => {
      throw new TypeError("offline");
    }) as unknown as typeof fetch;
    await createAuth(CONFIG, b.env, { onSignOut: async () => Promise.reject(new Error("no storage")) }).signOut();
    expect(new URL(b.went[0]!).pathname).toBe("/logout");
    expect(b.items.size).toBe(0);
  });

  it("keeps the tokens in this tab's sessionStorage, and clears what an older version left in localStorage", () => {
    const kept = JSON.stringify({ access: "a", id: jwt({ email: "ada@example.com" }), refresh: "r", expiresAt: 0 });
    localStorage.setItem("fast-neural-style.auth.tokens", kept);
    expect(createAuth(CONFIG).user()).toBeNull(); // never read from localStorage
    expect(localStorage.getItem("fast-neural-style.auth.tokens")).toBeNull();
    sessionStorage.setItem("fast-neural-style.auth.tokens", kept);
    expect(createAuth(CONFIG).user()).toEqual({ email: "ada@example.com" });
    sessionStorage.clear();
  });
});

describe("the token on the training routes", () => {
  it("goes on the jobs calls and the model download, never on the public routes", async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const impl = (async (url: RequestInfo | URL, init: RequestInit = {}) => {
      seen.push({ url: String(url), auth: new Headers(init.headers).get("Authorization") });
      if (String(url).endsWith("/styles")) return Response.json({ styles: [] });
      if (String(url).endsWith("/model")) return new Response(new Uint8Array([1, 2, 3]));
      const model = { file: "user-a.onnx", bytes: 3, sha256: "0".repeat(64), precision: "fp32", url: "/jobs/a/model", styles: [] };
      return Response.json({ jobs: [{ id: "a", name: "A", state: "done", style: "user-a", model }] });
    }) as typeof fetch;
    const signedFetch = authorizedFetch(async () => "Bearer t", impl);
    const api = createApi("https://api.example.com", impl, signedFetch);
    await api.listStyles();
    const [job] = await api.listJobs();
    const file = deviceModelFor(styleOf(job!), "fp32", "/models")!.file;
    await fetchCached({ ...file, sha256: undefined }, { fetchImpl: impl, signedFetch, cacheStorage: undefined });
    expect(seen).toEqual([
      { url: "https://api.example.com/styles", auth: null },
      { url: "https://api.example.com/jobs", auth: "Bearer t" },
      { url: "https://api.example.com/jobs/a/model", auth: "Bearer t" },
    ]);
  });

  it("reads the authorizer's 403 for a refused token as: sign in again", async () => {
    const impl = (async () => Response.json({ message: "Forbidden" }, { status: 403 })) as unknown as typeof fetch;
    await expect(createApi("https://api.example.com", impl, authorizedFetch(async () => "Bearer old", impl)).listJobs()).rejects.toMatchObject({ code: "unauthorized" });
  });
});

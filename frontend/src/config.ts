// Runtime configuration, fetched from /config.json next to index.html, so one build serves every
// stack: the local one writes {"apiBaseUrl": "/api"}, a deployment writes its API Gateway URL.
import type { AuthConfig } from "./auth/signin";
import { DEFAULT_MAX_SIDE } from "./image/pipeline";

export interface AppConfig {
  apiBaseUrl: string;
  /** Longest side, in pixels, of the photo sent for stylizing. */
  maxImageSide: number;
  /** After this many milliseconds, a request is probably waiting on a Lambda cold start. */
  coldStartHintMs: number;
  /** Where the site serves model files (`<modelsBaseUrl>/<file>`), relative to the page or absolute. */
  modelsBaseUrl: string;
  /** The model variant the browser runs where a style has it (the server's is halfres by default). */
  modelVariant: string;
  /** onnxruntime-web's backend on the device: WebGPU where the browser has it (auto), or one of them. */
  deviceBackend: "auto" | "webgpu" | "wasm";
  /** The user pool the training routes want a token of (an AWS stack with TrainingEnabled); none locally. */
  auth?: AuthConfig;
}

export const DEFAULT_CONFIG: AppConfig = {
  apiBaseUrl: "/api",
  maxImageSide: DEFAULT_MAX_SIDE,
  coldStartHintMs: 4000,
  modelsBaseUrl: "models/",
  modelVariant: "halfres",
  deviceBackend: "auto",
};

// openapi.yaml's range for POST /stylize's max_size: a larger side would only earn a 400.
export const MAX_IMAGE_SIDE_RANGE = [16, 2048] as const;

export class ConfigError extends Error {}

export function parseConfig(raw: unknown): AppConfig {
  if (typeof raw !== "object" || raw === null) throw new ConfigError("config.json is not a JSON object");
  const value = raw as Record<string, unknown>;
  if (typeof value.apiBaseUrl !== "string" || value.apiBaseUrl.trim() === "") {
    throw new ConfigError("config.json needs an \"apiBaseUrl\" string");
  }
  const maxImageSide = positiveInt(value.maxImageSide, "maxImageSide") ?? DEFAULT_CONFIG.maxImageSide;
  const [lowest, highest] = MAX_IMAGE_SIDE_RANGE;
  if (maxImageSide < lowest || maxImageSide > highest) {
    throw new ConfigError(`config.json: "maxImageSide" must be from ${lowest} to ${highest} (the API's limits)`);
  }
  return {
    apiBaseUrl: value.apiBaseUrl.trim().replace(/\/+$/, ""),
    maxImageSide,
    coldStartHintMs: positiveInt(value.coldStartHintMs, "coldStartHintMs") ?? DEFAULT_CONFIG.coldStartHintMs,
    modelsBaseUrl: text(value.modelsBaseUrl, "modelsBaseUrl") ?? DEFAULT_CONFIG.modelsBaseUrl,
    modelVariant: text(value.modelVariant, "modelVariant") ?? DEFAULT_CONFIG.modelVariant,
    deviceBackend: oneOf(value.deviceBackend, "deviceBackend", ["auto", "webgpu", "wasm"] as const) ?? DEFAULT_CONFIG.deviceBackend,
    ...(value.auth !== undefined && { auth: authConfig(value.auth) }),
  };
}

function authConfig(value: unknown): AuthConfig {
  const auth = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof auth.domain !== "string" || !/^https:\/\/[a-z0-9.-]+\/?$/i.test(auth.domain) || typeof auth.clientId !== "string" || !auth.clientId) {
    throw new ConfigError('config.json: "auth" needs "domain" (https://...) and "clientId" strings');
  }
  return { domain: auth.domain.replace(/\/+$/, ""), clientId: auth.clientId };
}

function text(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") throw new ConfigError(`config.json: "${name}" must be a string`);
  return value.trim();
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new ConfigError(`config.json: "${name}" must be one of ${allowed.join(", ")}`);
  return value as T;
}

function positiveInt(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`config.json: "${name}" must be a positive whole number`);
  }
  return value;
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const url = new URL("config.json", document.baseURI);
  let response: Response;
  try {
    response = await fetchImpl(url, { cache: "no-store" });
  } catch {
    throw new ConfigError(`could not fetch ${url.pathname}`);
  }
  if (!response.ok) throw new ConfigError(`${url.pathname} answered HTTP ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ConfigError(`${url.pathname} is not valid JSON`);
  }
  return parseConfig(body);
}

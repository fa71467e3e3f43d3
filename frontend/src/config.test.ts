import { ConfigError, DEFAULT_CONFIG, loadConfig, MAX_IMAGE_SIDE_RANGE, parseConfig } from "./config";
import { openapi } from "./test/contract";

describe("parseConfig", () => {
  it("takes the API base URL and fills in defaults", () => {
    expect(parseConfig({ apiBaseUrl: "/api" })).toEqual({ ...DEFAULT_CONFIG, apiBaseUrl: "/api" });
  });

  it("drops trailing slashes so paths join cleanly", () => {
    const url = "https://abc123.execute-api.eu-west-1.amazonaws.com/";
    expect(parseConfig({ apiBaseUrl: url }).apiBaseUrl).toBe("https://abc123.execute-api.eu-west-1.amazonaws.com");
  });

  it("accepts a configured maximum side and cold-start delay", () => {
    expect(parseConfig({ apiBaseUrl: "/api", maxImageSide: 768, coldStartHintMs: 2500 })).toMatchObject({
      maxImageSide: 768,
      coldStartHintMs: 2500,
    });
  });

  it("keeps the maximum side within the API's max_size range", () => {
    const range = openapi.components.schemas.StylizeRequest.properties.max_size;
    expect(MAX_IMAGE_SIDE_RANGE).toEqual([range.minimum, range.maximum]);
    expect(parseConfig({ apiBaseUrl: "/api", maxImageSide: range.maximum }).maxImageSide).toBe(range.maximum);
    expect(() => parseConfig({ apiBaseUrl: "/api", maxImageSide: range.maximum + 1 })).toThrow(/from 16 to 2048/);
  });

  it("takes the user pool the training routes sign in with", () => {
    const auth = { domain: "https://fns-1.auth.eu-west-1.amazoncognito.com/", clientId: "abc" };
    expect(parseConfig({ apiBaseUrl: "/api", auth }).auth).toEqual({ domain: "https://fns-1.auth.eu-west-1.amazoncognito.com", clientId: "abc" });
    expect(parseConfig({ apiBaseUrl: "/api" }).auth).toBeUndefined();
  });

  it.each([null, [], "x", {}, { apiBaseUrl: "" }, { apiBaseUrl: "/api", auth: { domain: "http://x", clientId: "a" } },
    { apiBaseUrl: "/api", auth: { domain: "https://x.example.com" } }, { apiBaseUrl: 3 }, { apiBaseUrl: "/api", maxImageSide: -5 }, { apiBaseUrl: "/api", maxImageSide: "1024" }])(
    "refuses %j",
    (raw) => expect(() => parseConfig(raw)).toThrow(ConfigError),
  );
});

describe("loadConfig", () => {
  it("fetches config.json beside the page", async () => {
    const fetchImpl = vi.fn(async () => Response.json({ apiBaseUrl: "https://api.example.com/prod" }));
    const config = await loadConfig(fetchImpl);
    expect(config.apiBaseUrl).toBe("https://api.example.com/prod");
    expect(String((fetchImpl.mock.calls[0] as unknown[])[0])).toBe(new URL("config.json", document.baseURI).href);
  });

  it("says what is wrong when the file is missing or not JSON", async () => {
    await expect(loadConfig(async () => new Response("nope", { status: 404 }))).rejects.toThrow(/HTTP 404/);
    await expect(loadConfig(async () => new Response("<html>"))).rejects.toThrow(/not valid JSON/);
    await expect(loadConfig(async () => Promise.reject(new TypeError("offline")))).rejects.toThrow(/could not fetch/);
  });
});

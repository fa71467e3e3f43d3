// POST /stylize's brush: the one asked for, or the API's default; the request the contract accepts either way.
import { assertMatchesSchema } from "../test/contract";
import { createApi } from "./client";

function capture() {
  const bodies: unknown[] = [];
  const impl = (async (_url: string, init: RequestInit) => {
    bodies.push(JSON.parse(String(init.body)));
    return Response.json({ image: btoa("JPEG"), mime_type: "image/jpeg", width: 4, height: 3, style: "udnie", timings: { total_ms: 5 } });
  }) as typeof fetch;
  return { bodies, api: createApi("/api", impl) };
}

const request = { styleId: "udnie", strength: 1, keepColours: false, maxSize: 2048, photo: { kind: "gallery" as const, key: "gallery/a.jpg" } };

describe("the stylize request's brush", () => {
  it("sends the brush asked for", async () => {
    const { bodies, api } = capture();
    await api.stylize({ ...request, brush: 2.5 });
    assertMatchesSchema("StylizeRequest", bodies[0]);
    expect(bodies[0]).toMatchObject({ brush: 2.5 });
  });

  it("sends the API's default brush (1, strokes of the 1024 px preview) when none is asked for", async () => {
    const { bodies, api } = capture();
    await api.stylize(request);
    assertMatchesSchema("StylizeRequest", bodies[0]);
    expect(bodies[0]).toMatchObject({ brush: 1 });
  });
});

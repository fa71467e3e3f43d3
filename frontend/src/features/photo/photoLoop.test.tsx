// The photo loop through the whole app, with a fake API, device and mixer: apply on tap with no stale label,
// strength on the cached result, the default path, cancel on the device, full size, and the small things.
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Api } from "../../api/client";
import type { Style, StylizeRequest, StylizeResult } from "../../api/types";
import { App } from "../../App";
import { DEFAULT_CONFIG } from "../../config";
import type { DeviceResult, DeviceStylizer } from "../../device/runner";
import type { MixRequest } from "../../image/mix";
import { FakeBackend, fakePhoto } from "../../test/fakeImages";
import { deferred } from "../../test/stubApi";

const STYLES: Style[] = [
  { id: "great_wave", name: "The Great Wave off Kanagawa", artist: "Katsushika Hokusai", year: 1831, thumbnail: null, network: "bundled", blendable: true },
  { id: "starry_night", name: "The Starry Night", artist: "Vincent van Gogh", year: 1889, thumbnail: null, network: "bundled", blendable: true },
  { id: "udnie", name: "Udnie", artist: "Francis Picabia", year: 1913, thumbnail: null, network: "bundled", blendable: true },
];
const NAMES = Object.fromEntries(STYLES.map((s) => [s.id, s.name]));

// Which style each object URL's image was painted in: the fake results carry it, URL.createObjectURL records it.
const paintedIn = new WeakMap<Blob, string>();
const urls = new Map<string, Blob>();
let nextUrl = 0;
beforeEach(() => {
  URL.createObjectURL = (blob: Blob | MediaSource) => {
    const url = `blob:loop/${++nextUrl}`;
    urls.set(url, blob as Blob);
    return url;
  };
});

function fakeApi(options: { slow?: boolean } = {}) {
  const calls: { request: StylizeRequest; signal?: AbortSignal; answer: (r?: Partial<StylizeResult>) => void }[] = [];
  const api: Api = {
    listStyles: vi.fn(async () => STYLES),
    listGallery: vi.fn(async () => []),
    fetchGalleryImage: vi.fn(async () => new Blob(["640x480"], { type: "image/jpeg" })),
    stylize: vi.fn((request: StylizeRequest, signal?: AbortSignal) => {
      const done = deferred<StylizeResult>();
      signal?.addEventListener("abort", () => done.reject(new DOMException("aborted", "AbortError")));
      const answer = (more: Partial<StylizeResult> = {}) => {
        const blob = new Blob([request.styleId], { type: "image/jpeg" });
        paintedIn.set(blob, request.blend ? request.blend.map((p) => p.styleId).join("+") : request.styleId);
        done.resolve({ blob, width: 1024, height: 768, elapsedMs: 300, ...more });
      };
      calls.push({ request, signal, answer });
      if (!options.slow) answer();
      return done.promise;
    }),
    createStyle: vi.fn(async () => Promise.reject(new Error("not in this test"))),
    listJobs: vi.fn(async () => []),
    getJob: vi.fn(async () => Promise.reject(new Error("not in this test"))),
    cancelJob: vi.fn(async () => Promise.reject(new Error("not in this test"))),
    deleteStyle: vi.fn(async () => undefined),
  };
  return { api, calls };
}

const READY = { state: "ready", backend: "wasm", threads: 2 } as const;
function fakeDevice(run: DeviceStylizer["stylizePhoto"], fast = false) {
  let state: DeviceStylizer["state"] = { state: "unknown" };
  const device: DeviceStylizer = {
    maxPixels: 4_194_304,
    fullSizeMaxPixels: 24_000_000,
    get state() {
      return state;
    },
    knownFast: vi.fn(async () => fast),
    msPerMp: () => 2000,
    check: vi.fn(async () => (state = READY)),
    modelFor: () => ({ file: { url: "/models/x.onnx", sha256: "a".repeat(64) }, styleId: "x" }),
    stylizePhoto: vi.fn(run),
    stylizePixels: vi.fn(),
  };
  return device;
}
const deviceResult = (width = 1024, height = 768): DeviceResult => ({ blob: new Blob(["png"], { type: "image/png" }), width, height, elapsedMs: 700, backend: "wasm" });

function renderApp(api: Api, more: { device?: DeviceStylizer; mixer?: (r: MixRequest) => Promise<Blob> } = {}) {
  const user = userEvent.setup();
  render(<App api={api} config={{ ...DEFAULT_CONFIG, maxImageSide: 1024 }} imageBackend={new FakeBackend()} {...more} />);
  return user;
}

async function upload(user: ReturnType<typeof userEvent.setup>, file = fakePhoto(4000, 3000, "Beach day.JPG")) {
  await user.upload(screen.getByLabelText("Photo file"), file);
  await screen.findByTestId("sent-size");
}

/** Every state the DOM passes through: a current result must carry its own style's name, never another's. */
function watchLabels() {
  const wrong: string[] = [];
  const check = () => {
    for (const image of document.querySelectorAll<HTMLImageElement>("[data-testid=result-image]")) {
      const blob = urls.get(image.getAttribute("src") ?? "");
      const style = blob && paintedIn.get(blob);
      if (!style) continue;
      const name = style.split("+").map((id) => NAMES[id]).join(" + ");
      const current = image.dataset.current === "true";
      const label = image.alt;
      if (current ? !label.startsWith(name.split(" + ")[0]!) : !label.startsWith("Previous: ")) wrong.push(`${label} over ${style}`);
      const title = document.querySelector("[data-testid=result-title]")?.textContent ?? "";
      if (!current && !title.startsWith("Previous: ")) wrong.push(`title ${title} over ${style}`);
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  return { wrong, stop: () => observer.disconnect() };
}

describe("the photo loop", () => {
  it("paints at once on a photo and on each style picked, without pressing Stylize, and never labels a result with another style", async () => {
    const { api, calls } = fakeApi({ slow: true });
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    const labels = watchLabels();
    await upload(user);
    await waitFor(() => expect(calls).toHaveLength(1)); // the photo, with the first style: no press
    expect(calls[0]!.request).toMatchObject({ styleId: "great_wave", strength: 1 });
    await act(async () => calls[0]!.answer());
    expect(await screen.findByTestId("result-image")).toHaveAttribute("alt", "The Great Wave off Kanagawa");

    await user.click(screen.getByRole("radio", { name: /The Starry Night/ }));
    // At once, before the new result: the old one is named as the previous one.
    expect(screen.getByTestId("result-image")).toHaveAttribute("alt", "Previous: The Great Wave off Kanagawa");
    expect(screen.getByTestId("result-title")).toHaveTextContent(/^Previous: The Great Wave off Kanagawa/);
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(screen.getByText("Painting in the style of The Starry Night…")).toBeInTheDocument();
    expect(calls[1]!.request.styleId).toBe("starry_night");

    // A quick run of picks: the older run is aborted, only the last is painted.
    await user.click(screen.getByRole("radio", { name: /Udnie/ }));
    await waitFor(() => expect(calls).toHaveLength(3));
    expect(calls[1]!.signal?.aborted).toBe(true);
    await act(async () => calls[2]!.answer());
    await waitFor(() => expect(screen.getByTestId("result-image")).toHaveAttribute("alt", "Udnie"));
    expect(screen.getByTestId("result-image")).toHaveAttribute("data-current", "true");
    expect(screen.getByRole("button", { name: "Stylize" })).toBeEnabled();
    labels.stop();
    expect(labels.wrong).toEqual([]);
  });

  it("a brush size paints again with that brush, never under the old result's name, and going back shows the kept result with no request", async () => {
    const { api, calls } = fakeApi({ slow: true });
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    const labels = watchLabels();
    await upload(user);
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.request).toMatchObject({ brush: 1 });
    await act(async () => calls[0]!.answer());
    await waitFor(() => expect(screen.getByTestId("result-image")).toHaveAttribute("data-current", "true"));

    fireEvent.change(screen.getByLabelText("Brush size"), { target: { value: "6" } });
    expect(screen.getByTestId("brush-value")).toHaveTextContent("2×");
    // At once, before the new result: the one on screen is not the one asked for.
    expect(screen.getByTestId("result-image")).toHaveAttribute("data-current", "false");
    expect(screen.getByTestId("result-title")).toHaveTextContent(/^Previous: /);
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request).toMatchObject({ styleId: "great_wave", brush: 2 });
    await act(async () => calls[1]!.answer());
    await waitFor(() => expect(screen.getByTestId("result-image")).toHaveAttribute("data-current", "true"));
    expect(screen.getByTestId("download")).toHaveAttribute("download", "Beach-day-the-great-wave-off-kanagawa-brush-2x.jpg");

    fireEvent.change(screen.getByLabelText("Brush size"), { target: { value: "4" } });
    await waitFor(() => expect(screen.getByTestId("result-image")).toHaveAttribute("data-current", "true"));
    expect(screen.getByTestId("download")).toHaveAttribute("download", "Beach-day-the-great-wave-off-kanagawa.jpg");
    expect(calls).toHaveLength(2);
    labels.stop();
    expect(labels.wrong).toEqual([]);
  });

  it("paints a blend at once when one is picked", async () => {
    const { api, calls } = fakeApi();
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await upload(user);
    await waitFor(() => expect(calls).toHaveLength(1));
    fireEvent.change(screen.getByLabelText("Mix The Great Wave off Kanagawa with"), { target: { value: "udnie" } });
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request.blend?.map((p) => p.styleId)).toEqual(["great_wave", "udnie"]);
    await waitFor(() => expect(screen.getByTestId("result-image")).toHaveAttribute("alt", "The Great Wave off Kanagawa 50% + Udnie 50%"));
  });

  it("mixes the strength over the cached result in the browser, with no new request; keep colours asks again", async () => {
    const { api, calls } = fakeApi();
    const mixer = vi.fn(async (request: MixRequest) => new Blob([`mix ${request.strength}`], { type: "image/jpeg" }));
    const user = renderApp(api, { mixer });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await upload(user);
    await waitFor(() => expect(screen.getByTestId("result-image")).toHaveAttribute("data-current", "true"));
    expect(calls).toHaveLength(1);
    const resultUrl = screen.getByTestId("result-image").getAttribute("src");

    fireEvent.change(screen.getByRole("slider", { name: "Strength" }), { target: { value: "60" } });
    const image = screen.getByTestId("result-image");
    expect(image.style.opacity).toBe("0.6"); // on screen at once: 60% result over the photo
    expect(image.getAttribute("src")).toBe(resultUrl);
    await waitFor(() => expect(screen.getByRole("link", { name: /Download/ })).toHaveAttribute("download", "Beach-day-the-great-wave-off-kanagawa-60pct.jpg"));
    const mixed = mixer.mock.calls.at(-1)![0];
    expect(mixed).toMatchObject({ strength: 0.6, width: 1024, height: 768 });
    expect(await mixed.stylized.text()).toBe("great_wave");
    expect(mixed.photo.type).toBe("image/jpeg"); // the prepared photo, as sent
    expect(urls.get(screen.getByRole("link", { name: /Download/ }).getAttribute("href")!)).toBeDefined();
    expect(calls).toHaveLength(1); // strength asked nothing of the server

    await user.click(screen.getByRole("switch", { name: /Keep original colours/ }));
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request).toMatchObject({ keepColours: true, strength: 1 });
    await waitFor(() => expect(screen.getByRole("link", { name: /Download/ })).toHaveAttribute("download", "Beach-day-the-great-wave-off-kanagawa-60pct-own-colours.jpg"));
  });

  it("Auto uses the server for a first-time visitor, and downloads the device runtime only after the first result", async () => {
    const { api, calls } = fakeApi({ slow: true });
    const device = fakeDevice(async () => deviceResult());
    const user = renderApp(api, { device });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await upload(user);
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(device.check).not.toHaveBeenCalled(); // nothing downloaded before the first result
    await act(async () => calls[0]!.answer());
    expect(await screen.findByTestId("ran-on")).toHaveAttribute("data-ran-on", "server");
    expect(device.check).not.toHaveBeenCalled();
    await waitFor(() => expect(device.check).toHaveBeenCalledTimes(1), { timeout: 4000 }); // then in the background
    expect(device.stylizePhoto).not.toHaveBeenCalled();
  });

  it("Auto uses a device known to be fast, and the photo facts say it ran there", async () => {
    const { api, calls } = fakeApi();
    const device = fakeDevice(async () => deviceResult(), true);
    const user = renderApp(api, { device });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await upload(user);
    await waitFor(() => expect(screen.getByTestId("ran-on")).toHaveAttribute("data-ran-on", "device"));
    expect(calls).toHaveLength(0);
    expect(screen.getByTestId("sent-size")).toHaveTextContent("Stylized on this device, nothing sent: 1024 × 768 JPEG");
  });

  it("the photo facts say the server when it ran there", async () => {
    const { api } = fakeApi();
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await upload(user);
    await waitFor(() => expect(screen.getByTestId("sent-size")).toHaveTextContent("Sent to the server: 1024 × 768 JPEG"));
  });

  it("Esc during a device run that cannot stop frees the screen at once and ignores its result", async () => {
    const { api, calls } = fakeApi();
    const late = deferred<DeviceResult>();
    const device = fakeDevice(() => late.promise);
    const user = renderApp(api, { device });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await user.click(screen.getByRole("radio", { name: "On this device" }));
    await upload(user);
    await screen.findByText("Painting in the style of The Great Wave off Kanagawa…");
    await waitFor(() => expect(device.stylizePhoto).toHaveBeenCalled());
    await user.keyboard("{Escape}");
    expect(screen.queryByText(/Painting in the style of/)).not.toBeInTheDocument(); // at once
    expect(screen.getByRole("button", { name: "Stylize" })).toBeEnabled();
    await act(async () => late.resolve(deviceResult()));
    expect(screen.queryByTestId("result-image")).not.toBeInTheDocument(); // the late result is dropped
    expect(calls).toHaveLength(0);
  });

  it("offers full size on the device with its estimated time before it starts, and paints the photo at its own size", async () => {
    const { api } = fakeApi();
    const device = fakeDevice(async (job) => deviceResult(job.fullSize ? 4000 : 1024, job.fullSize ? 3000 : 768));
    const user = renderApp(api, { device });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await upload(user);
    await waitFor(() => expect(screen.getByTestId("ran-on")).toHaveAttribute("data-ran-on", "server"));
    const toggle = screen.getByRole("switch", { name: /Full size \(4000 × 3000\)/ });
    // 12 MP at the measured 2 s a megapixel.
    expect(screen.getByTestId("full-size-hint")).toHaveTextContent("about 24 s (at 2.0 s a megapixel, as measured here)");
    await user.click(toggle);
    await waitFor(() => expect(screen.getByTestId("ran-on")).toHaveTextContent("4000 × 3000"));
    expect(device.stylizePhoto).toHaveBeenLastCalledWith(expect.objectContaining({ fullSize: true, strength: 1 }), expect.anything());
    expect(screen.getByRole("link", { name: /Download/ })).toHaveAttribute("download", "Beach-day-the-great-wave-off-kanagawa-full-size.png");
  });

  it("says a 0-byte file is empty", async () => {
    const { api } = fakeApi();
    const user = userEvent.setup({ applyAccept: false });
    render(<App api={api} config={DEFAULT_CONFIG} imageBackend={new FakeBackend()} />);
    await user.upload(screen.getByLabelText("Photo file"), new File([], "IMG_0001.jpg", { type: "image/jpeg" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("“IMG_0001.jpg” is empty (0 bytes)");
  });

  it("deleting your own style resets the picker to the first style and clears a blend that used it", async () => {
    const mine = { id: "j9", name: "Blue period", state: "done" as const, cancelRequested: false, thumbnail: null, style: "user-j9", error: null,
      model: { variant: "fp32", file: "j9.onnx", bytes: 1, sha256: "b".repeat(64), url: "/api/jobs/j9/model", styles: ["great_wave", "starry_night"] } };
    const { api } = fakeApi();
    api.listJobs = vi.fn(async () => [mine]);
    const user = renderApp(api);
    const yours = await screen.findByRole("radio", { name: /Blue period/ });
    await user.click(yours);
    const blend = await screen.findByLabelText("Mix Blue period with");
    fireEvent.change(blend, { target: { value: "starry_night" } });
    expect(screen.getByLabelText("Mix Blue period with")).toHaveValue("starry_night");
    await user.click(screen.getByRole("button", { name: "Delete Blue period" }));
    await user.click(screen.getByRole("button", { name: "Delete “Blue period”" }));
    await waitFor(() => expect(screen.queryByRole("radio", { name: /Blue period/ })).not.toBeInTheDocument());
    expect(screen.getByRole("radio", { name: /The Great Wave/ })).toBeChecked();
    expect(screen.getByLabelText("Mix The Great Wave off Kanagawa with")).toHaveValue(""); // no blend kept
  });
});

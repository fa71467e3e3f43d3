import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Api } from "./api/client";
import { ApiError } from "./api/errors";
import type { GalleryImage, Style, StylizeRequest, StylizeResult } from "./api/types";
import { App } from "./App";
import { DEFAULT_CONFIG, type AppConfig } from "./config";
import { FakeBackend, fakePhoto } from "./test/fakeImages";

const STYLES: Style[] = [
  { id: "great_wave", name: "The Great Wave off Kanagawa", artist: "Katsushika Hokusai", year: "c. 1831", thumbnail: null },
  { id: "starry_night", name: "The Starry Night", artist: "Vincent van Gogh", year: 1889, thumbnail: "data:image/jpeg;base64,AA==" },
];
const GALLERY: GalleryImage[] = [
  { key: "gallery/astronaut.jpg", name: "astronaut.jpg", thumbnail: "http://s3.local/gallery/astronaut.jpg" },
  { key: "gallery/coffee.jpg", name: "coffee.jpg", thumbnail: "http://s3.local/gallery/coffee.jpg" },
];

function fakeApi(overrides: Partial<Api> = {}) {
  const stylizeCalls: { request: StylizeRequest; signal?: AbortSignal }[] = [];
  const api: Api = {
    listStyles: vi.fn(async () => STYLES),
    listGallery: vi.fn(async () => GALLERY),
    fetchGalleryImage: vi.fn(async () => new Blob(["640x480"], { type: "image/jpeg" })),
    stylize: vi.fn(async (request: StylizeRequest, signal?: AbortSignal): Promise<StylizeResult> => {
      stylizeCalls.push({ request, signal });
      return { blob: new Blob(["result"], { type: "image/jpeg" }), width: 1024, height: 768, elapsedMs: 420 };
    }),
    createStyle: vi.fn(async () => Promise.reject(new Error("not in this test"))),
    listJobs: vi.fn(async () => []),
    getJob: vi.fn(async () => Promise.reject(new Error("not in this test"))),
    cancelJob: vi.fn(async () => Promise.reject(new Error("not in this test"))),
    deleteStyle: vi.fn(async () => undefined),
    ...overrides,
  };
  return { api, stylizeCalls };
}

function renderApp(api: Api, config: Partial<AppConfig> = {}) {
  const user = userEvent.setup();
  render(<App api={api} config={{ ...DEFAULT_CONFIG, ...config }} imageBackend={new FakeBackend()} />);
  return user;
}

async function uploadPhoto(user: ReturnType<typeof userEvent.setup>, file = fakePhoto(4000, 3000, "Beach day.JPG")) {
  await user.upload(screen.getByLabelText("Photo file"), file);
  await screen.findByAltText("Your photo, ready to stylize");
}

describe("the app", () => {
  it("shows the styles with names and artists, and the gallery samples", async () => {
    const { api } = fakeApi();
    renderApp(api);
    const wave = await screen.findByRole("radio", { name: /The Great Wave off Kanagawa/ });
    expect(wave).toBeChecked(); // the first style is preselected
    expect(screen.getByText("Katsushika Hokusai, c. 1831")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: /The Starry Night/ })).not.toBeChecked();
    expect(await screen.findByRole("button", { name: "Sample photo: astronaut.jpg" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Stylize" })).toBeDisabled();
    expect(screen.getByText("Choose a photo first.")).toBeInTheDocument();
  });

  it("uploads a photo, shows what will be sent, stylizes it and offers the download", async () => {
    const { api, stylizeCalls } = fakeApi();
    const user = renderApp(api, { maxImageSide: 1024 });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await uploadPhoto(user);
    expect(screen.getByTestId("sent-size")).toHaveTextContent(/^Beach day\.JPGSends 1024 × 768 JPEG, \d+ kB \(resized from 4000 × 3000/);

    await user.click(screen.getByRole("radio", { name: /The Starry Night/ }));
    await user.click(screen.getByRole("button", { name: "Stylize" }));

    const result = await screen.findByTestId("result-image");
    await waitFor(() => expect(result).toHaveAttribute("alt", "The Starry Night"));
    const download = screen.getByRole("link", { name: /Download/ });
    expect(download).toHaveAttribute("download", "Beach-day-the-starry-night.jpg");
    expect(download.getAttribute("href")).toMatch(/^blob:/);
    expect(screen.getByText(/420 ms on the server/)).toBeInTheDocument();
    expect(screen.getByTestId("announcer")).toHaveTextContent("Done: your photo in the style of The Starry Night.");

    const { request } = stylizeCalls.at(-1)!;
    expect(request).toMatchObject({ styleId: "starry_night", strength: 1, keepColours: false, maxSize: 1024 });
    expect(request.photo.kind).toBe("upload");
  });

  it("offers your finished style in the picker, marked as yours; it stylizes on the server and is deleted from there", async () => {
    const mine = { id: "j9", name: "Blue period", state: "done" as const, cancelRequested: false, thumbnail: null, style: "user-j9", model: null, error: null };
    const blendable = STYLES.map((s) => ({ ...s, network: "bundled", blendable: true }));
    const deleteStyle = vi.fn(async () => undefined);
    const { api, stylizeCalls } = fakeApi({ listStyles: vi.fn(async () => blendable), listJobs: vi.fn(async () => [mine]), deleteStyle });
    const user = renderApp(api);
    const yours = await screen.findByRole("radio", { name: /Blue period/ });
    expect(yours.closest(".style-card")).toHaveTextContent("YoursBlue periodYour style");
    expect(screen.getByLabelText("Mix The Great Wave off Kanagawa with")).toBeInTheDocument(); // the bundled ones blend
    await uploadPhoto(user);
    await user.click(screen.getByRole("button", { name: "Use Blue period" }));
    expect(yours).toBeChecked();
    expect(screen.queryByLabelText(/^Mix Blue period with/)).not.toBeInTheDocument(); // a network of its own
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    expect(await screen.findByTestId("result-image")).toHaveAttribute("alt", "Blue period");
    expect(stylizeCalls.at(-1)!.request).toMatchObject({ styleId: "user-j9" });
    expect(stylizeCalls.at(-1)!.request.blend).toBeUndefined();

    await user.click(screen.getByRole("button", { name: "Delete Blue period" }));
    await user.click(screen.getByRole("button", { name: "Delete “Blue period”" }));
    expect(deleteStyle).toHaveBeenCalledWith("user-j9", expect.any(AbortSignal));
    await waitFor(() => expect(screen.queryByRole("radio", { name: /Blue period/ })).not.toBeInTheDocument());
    expect(screen.getByRole("radio", { name: /The Great Wave/ })).toBeChecked(); // the first style takes over
  });

  it("sends keep colours, and asks for full strength whatever the strength (mixed in the browser)", async () => {
    const { api, stylizeCalls } = fakeApi();
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await uploadPhoto(user);
    const strength = screen.getByRole("slider", { name: "Strength" });
    fireEvent.change(strength, { target: { value: "60" } });
    expect(screen.getByText("60%")).toBeInTheDocument();
    await user.click(screen.getByRole("switch", { name: /Keep original colours/ }));
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    await screen.findByTestId("result-image");
    expect(stylizeCalls.at(-1)!.request).toMatchObject({ strength: 1, keepColours: true });
  });

  it("stylizes a gallery sample by key", async () => {
    const { api, stylizeCalls } = fakeApi();
    const user = renderApp(api);
    await user.click(await screen.findByRole("button", { name: "Sample photo: coffee.jpg" }));
    await screen.findByAltText("Your photo, ready to stylize");
    expect(api.fetchGalleryImage).toHaveBeenCalledWith("gallery/coffee.jpg");
    expect(screen.getByRole("button", { name: "Sample photo: coffee.jpg" })).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByTestId("sent-size")).toHaveTextContent(/^coffee\.jpgSample photo, 640 × 480/);
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    await screen.findByTestId("result-image");
    expect(stylizeCalls.at(-1)!.request.photo).toEqual({ kind: "gallery", key: "gallery/coffee.jpg" });
    expect(screen.getByRole("link", { name: /Download/ })).toHaveAttribute("download", "coffee-the-great-wave-off-kanagawa.jpg");
  });

  it("refuses a file that is not an image with a clear message", async () => {
    const { api } = fakeApi();
    const user = userEvent.setup({ applyAccept: false });
    render(<App api={api} config={DEFAULT_CONFIG} imageBackend={new FakeBackend()} />);
    await user.upload(screen.getByLabelText("Photo file"), new File(["%PDF-1.7"], "invoice.pdf", { type: "application/pdf" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("That file can’t be used");
    expect(alert).toHaveTextContent("“invoice.pdf” isn’t an image");
    expect(screen.queryByAltText("Your photo, ready to stylize")).not.toBeInTheDocument();
  });

  it("lets a running request finish when the next file turns out unusable", async () => {
    let signal: AbortSignal | undefined;
    const { api } = fakeApi({
      stylize: vi.fn((_request: StylizeRequest, given?: AbortSignal) => {
        signal = given;
        return new Promise<StylizeResult>(() => undefined);
      }),
    });
    const user = userEvent.setup({ applyAccept: false });
    render(<App api={api} config={DEFAULT_CONFIG} imageBackend={new FakeBackend()} />);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await uploadPhoto(user);
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    await screen.findByText(/Painting in the style of/);
    await user.upload(screen.getByLabelText("Photo file"), new File(["nope"], "notes.txt", { type: "text/plain" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("“notes.txt” isn’t an image");
    expect(signal?.aborted).toBe(false);
    expect(screen.getByText(/Painting in the style of/)).toBeInTheDocument();
    expect(screen.getByTestId("sent-size")).toHaveTextContent(/^Beach day\.JPG/);
  });

  it("shows a busy state that can be cancelled, and a cold-start hint when slow", async () => {
    let signal: AbortSignal | undefined;
    const { api } = fakeApi({
      stylize: vi.fn((_request: StylizeRequest, given?: AbortSignal) => {
        signal = given;
        return new Promise<StylizeResult>((_resolve, reject) =>
          given?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
        );
      }),
    });
    const user = renderApp(api, { coldStartHintMs: 1 });
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await uploadPhoto(user);
    await user.click(screen.getByRole("button", { name: "Stylize" }));

    const status = (await screen.findByText("Painting in the style of The Great Wave off Kanagawa…")).closest("[role=status]");
    expect(status).toHaveAttribute("aria-live", "polite");
    expect(await screen.findByTestId("cold-start-hint")).toHaveTextContent(/Waking the model up/);

    await user.click(within(status as HTMLElement).getByRole("button", { name: /Cancel/ }));
    expect(signal?.aborted).toBe(true);
    await waitFor(() => expect(screen.queryByText(/Painting in the style of/)).not.toBeInTheDocument());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument(); // a cancel is not an error
    expect(screen.getByRole("button", { name: "Stylize" })).toBeEnabled();
  });

  it("cancels with the Escape key too", async () => {
    let signal: AbortSignal | undefined;
    const { api } = fakeApi({
      stylize: vi.fn((_request: StylizeRequest, given?: AbortSignal) => {
        signal = given;
        return new Promise<StylizeResult>(() => undefined);
      }),
    });
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await uploadPhoto(user);
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    await screen.findByText(/Painting in the style of/);
    await user.keyboard("{Escape}");
    expect(signal?.aborted).toBe(true);
  });

  it.each([
    ["unknown_style", "That style is no longer available"],
    ["payload_too_large", "That photo is too large to send"],
    ["gateway_timeout", "The server took too long"],
  ])("explains the API error %s", async (code, title) => {
    const { api } = fakeApi({ stylize: vi.fn(async () => Promise.reject(new ApiError(code, "server text", 400))) });
    const user = renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });
    await uploadPhoto(user);
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(title);
    expect(alert).toHaveAttribute("data-code", code);
    await user.click(within(alert).getByRole("button", { name: "Dismiss message" }));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("offers a retry when the styles cannot be loaded", async () => {
    const listStyles = vi
      .fn<Api["listStyles"]>()
      .mockRejectedValueOnce(new ApiError("network_error", "down"))
      .mockResolvedValue(STYLES);
    const { api } = fakeApi({ listStyles });
    const user = renderApp(api);
    expect(await screen.findByText("Check your connection and try again.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("radio", { name: /The Starry Night/ })).toBeInTheDocument();
  });

  it("takes a photo pasted from the clipboard or dropped on the page", async () => {
    const { api } = fakeApi();
    renderApp(api);
    await screen.findByRole("radio", { name: /The Starry Night/ });

    const pasted = fakePhoto(800, 600, "image.png", "image/png");
    await act(async () => {
      fireEvent.paste(document.body, { clipboardData: { files: [pasted], types: ["Files"] } });
    });
    await screen.findByAltText("Your photo, ready to stylize");
    expect(screen.getByTestId("sent-size")).toHaveTextContent("Sends 800 × 600 JPEG");

    const dropped = fakePhoto(300, 200, "dropped.webp", "image/webp");
    const dataTransfer = { files: [dropped], types: ["Files"] };
    fireEvent.dragEnter(window, { dataTransfer });
    expect(await screen.findByText("Drop to use this photo")).toBeInTheDocument();
    await act(async () => {
      fireEvent.drop(window, { dataTransfer });
    });
    await waitFor(() => expect(screen.getByTestId("sent-size")).toHaveTextContent("Sends 300 × 200 JPEG"));
    expect(screen.queryByText("Drop to use this photo")).not.toBeInTheDocument();
  });

  it("is operable by keyboard: arrow keys pick styles, Enter stylizes", async () => {
    const { api, stylizeCalls } = fakeApi();
    const user = renderApp(api);
    const wave = await screen.findByRole("radio", { name: /The Great Wave/ });
    await uploadPhoto(user);
    wave.focus();
    await user.keyboard("{ArrowRight}");
    expect(screen.getByRole("radio", { name: /The Starry Night/ })).toBeChecked();
    screen.getByRole("button", { name: "Stylize" }).focus();
    await user.keyboard("{Enter}");
    await screen.findByTestId("result-image");
    expect(stylizeCalls.at(-1)!.request.styleId).toBe("starry_night");
  });

  it("switches to the live camera and back by keyboard, keeping the photo, the style and the focus", async () => {
    const { api } = fakeApi();
    const user = renderApp(api);
    await user.click(await screen.findByRole("radio", { name: /The Starry Night/ }));
    await uploadPhoto(user);
    const photoMode = screen.getByRole("radio", { name: "Photo" });
    photoMode.focus();
    await user.keyboard("{ArrowRight}");
    expect(screen.getByRole("button", { name: "Start camera" })).toBeInTheDocument();
    expect(screen.queryByAltText("Your photo, ready to stylize")).not.toBeInTheDocument();
    expect(screen.getByRole("radio", { name: "Live camera" })).toHaveFocus();
    await user.keyboard("{ArrowLeft}");
    expect(screen.getByAltText("Your photo, ready to stylize")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: /The Starry Night/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: "Photo" })).toHaveFocus();
    expect(screen.getByRole("button", { name: "Stylize" })).toBeEnabled();
  });
});

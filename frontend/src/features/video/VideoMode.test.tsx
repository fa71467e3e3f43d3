import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Api } from "../../api/client";
import type { VideoApi } from "../../api/videos";
import { App } from "../../App";
import { DEFAULT_CONFIG } from "../../config";
import { assertMatchesSchema } from "../../test/contract";
import { stubApi } from "../../test/stubApi";
import { fakeVideoServer, LIMITS, refuse, RESULT, running, UPLOAD, video } from "./fakeVideoServer";
import { probeClip } from "./probeClip";
import { POLL_MS } from "./useVideoJob";

// jsdom reads no media: the clip's metadata is what each test says it is.
vi.mock("./probeClip", () => ({ probeClip: vi.fn() }));
const probe = vi.mocked(probeClip);

const STYLES = [
  { id: "great_wave", name: "The Great Wave", artist: "Katsushika Hokusai", year: 1831, thumbnail: null, network: "n", blendable: true },
  { id: "udnie", name: "Udnie", artist: "Francis Picabia", year: 1913, thumbnail: null, network: "n", blendable: true },
];

function renderVideoMode(videos: VideoApi) {
  const api: Api = stubApi({ listStyles: vi.fn(async () => STYLES), listGallery: vi.fn(async () => []), listJobs: vi.fn(async () => []) });
  api.videos = videos;
  const user = userEvent.setup({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
  render(<App api={api} config={DEFAULT_CONFIG} />);
  return user;
}

async function openVideoMode(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole("radio", { name: "Video" }));
  await screen.findByText(/^MP4, MOV or WebM, up to 200 MB and 60 s\./);
  await screen.findByRole("radio", { name: /The Great Wave/ });
}

/** As the browser does after the file dialog (the accept list is not applied, as a drop's is not). */
function chooseClip(file: File) {
  fireEvent.change(screen.getByLabelText("Video file"), { target: { files: [file] } });
}

const clip = (name = "beach.mp4", type = "video/mp4", bytes = 9) => new File([new Uint8Array(bytes)], name, { type });
const action = () => screen.getByRole("button", { name: /Stylize video|Cancel/ });

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  probe.mockResolvedValue({ durationS: 12, width: 640, height: 360 });
});
afterEach(() => vi.useRealTimers());

describe("the video mode", () => {
  it("says the limits before a clip is chosen, and refuses one over them without sending anything", async () => {
    const server = fakeVideoServer(assertMatchesSchema, { "GET /videos/limits": () => LIMITS });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    expect(screen.getByTestId("video-limits")).toHaveTextContent(
      "MP4, MOV or WebM, up to 200 MB and 60 s. The result is at most 1280 px on its longer side, at up to 30 frames a second.",
    );
    expect(screen.getByLabelText("Video file")).toHaveAttribute("accept", "video/mp4,video/quicktime,video/webm,.mov,.mp4,.webm");

    chooseClip(clip("holiday.mp4", "video/mp4", 200_000_001));
    expect(await screen.findByTestId("clip-refusal")).toHaveTextContent("“holiday.mp4” is 200 MB; a clip can be up to 200 MB. Nothing was uploaded.");

    chooseClip(clip("slides.gif", "image/gif"));
    expect(await screen.findByTestId("clip-refusal")).toHaveTextContent("“slides.gif” is not a video this site takes: choose MP4, MOV or WebM.");

    probe.mockResolvedValueOnce({ durationS: 75.4, width: 1920, height: 1080 });
    chooseClip(clip("long.mov", ""));
    await waitFor(() => expect(screen.getByTestId("clip-refusal")).toHaveTextContent("“long.mov” is 1 min 15 s long; a clip can be up to 60 s."));
    expect(probe).toHaveBeenCalledTimes(1); // the type and size are refused before the metadata is read
    expect(screen.queryByTestId("clip-preview")).not.toBeInTheDocument();
    expect(action()).toBeDisabled();
    expect(screen.getByText("Choose a clip first.")).toBeInTheDocument();
    expect(server.routes()).toEqual(["GET /videos/limits"]);
  });

  it("uploads the clip, starts it, shows its progress, then plays the result beside the original with its download", async () => {
    const server = fakeVideoServer(assertMatchesSchema, {
      "GET /videos/limits": () => LIMITS,
      "POST /videos": () => video({ upload: UPLOAD }),
      "POST /videos/:id/start": () => video({ state: "queued" }),
      "GET /videos/:id": [() => running(96, 125), () => video({ state: "done", frames_done: 288, frames_total: 288, result: RESULT })],
    });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    chooseClip(clip("beach.mov", "video/quicktime", 2_500_000));
    expect(await screen.findByTestId("clip-facts")).toHaveTextContent("beach.mov12 s, 640 × 360, 2.5 MB");
    await user.selectOptions(screen.getByLabelText("Mix The Great Wave with"), "udnie");
    await user.click(screen.getByRole("radio", { name: "480 px" }));
    await user.click(action());

    await waitFor(() => expect(server.xhrs).toHaveLength(1));
    const [create] = server.requests.filter((r) => r.route === "POST /videos");
    expect(create).toEqual({
      route: "POST /videos", signedIn: true,
      json: { blend: [{ style: "great_wave", weight: 0.5 }, { style: "udnie", weight: 0.5 }], strength: 1, preserve_color: false, max_size: 480, bytes: 2_500_000, content_type: "video/quicktime", filename: "beach.mov" },
    });
    const xhr = server.xhrs[0]!;
    expect(xhr.entries()).toEqual([...Object.entries(UPLOAD.fields), ["file", "file:beach.mov"]]);
    act(() => xhr.progress(1_100_000, 2_500_000));
    expect(screen.getByTestId("video-status")).toHaveTextContent("Uploading 44%");
    expect(screen.getByText(/Painting your clip in the style of The Great Wave 50% \+ Udnie 50%/)).toBeInTheDocument();
    act(() => xhr.respond(204));

    await waitFor(() => expect(screen.getByTestId("video-status")).toHaveTextContent("Waiting for its turn…"));
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS));
    await waitFor(() => expect(screen.getByTestId("video-status")).toHaveTextContent("Frame 96 of 288 · about 2 min left"));
    expect(screen.getByTestId("video-preview")).toHaveAttribute("src", "data:image/jpeg;base64,AA==");
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS));

    const original = await screen.findByTestId("original-video");
    const result = screen.getByTestId("result-video");
    expect(result).toHaveAttribute("src", RESULT.url);
    expect(original).toHaveAttribute("src", expect.stringMatching(/^blob:/));
    expect((original as HTMLVideoElement).muted).toBe(true);
    expect((result as HTMLVideoElement).muted).toBe(false);
    expect(screen.getByTestId("video-download")).toHaveAttribute("href", RESULT.download_url);
    expect(screen.getByTestId("video-facts")).toHaveTextContent("640 × 360 · 24 fps · 12 s · 4.2 MB · with sound");
    expect(screen.getByTestId("video-announcer")).toHaveTextContent("Done: your clip in the style of The Great Wave 50% + Udnie 50%.");
    expect(server.routes()).toEqual(["GET /videos/limits", "POST /videos", "POST /videos/:id/start", "GET /videos/:id", "GET /videos/:id"]);
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS * 3));
    expect(server.routes()).toHaveLength(5); // the job is over: no more polls

    // Playing or pausing one moves the other.
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    fireEvent.play(result);
    expect(play.mock.contexts).toEqual([original]);
    play.mockRestore();

    await user.click(screen.getByRole("button", { name: "Start over with another clip" }));
    expect(screen.queryByTestId("result-video")).not.toBeInTheDocument();
    expect(screen.getByText("Choose a clip first.")).toBeInTheDocument();
  });

  it("shows the server's reason when it refuses to start the clip, and deletes the job", async () => {
    const server = fakeVideoServer(assertMatchesSchema, {
      "GET /videos/limits": () => LIMITS,
      "POST /videos": () => video({ upload: UPLOAD }),
      "POST /videos/:id/start": refuse("video_too_long", "The clip is 75.4 s long; at most 60 s.", 413),
      "DELETE /videos/:id": () => video({ state: "cancelled" }),
    });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    probe.mockResolvedValueOnce(null); // a clip this browser cannot read: the server checks its length
    chooseClip(clip("phone.mov", "video/quicktime"));
    expect(await screen.findByTestId("clip-facts")).toHaveTextContent("the server checks its length");
    await user.click(action());
    await waitFor(() => expect(server.xhrs).toHaveLength(1));
    act(() => server.xhrs[0]!.respond(204));

    const notice = await screen.findByTestId("notice");
    expect(within(notice).getByText("That clip is too long")).toBeInTheDocument();
    expect(within(notice).getByText("The clip is 75.4 s long; at most 60 s.")).toBeInTheDocument();
    await waitFor(() => expect(server.routes()).toContain("DELETE /videos/:id"));
    expect(action()).toHaveTextContent("Stylize video"); // the clip stays, to try again
    expect(screen.getByTestId("clip-preview")).toBeInTheDocument();
  });

  it("cancels: a running job is deleted and no longer polled", async () => {
    const server = fakeVideoServer(assertMatchesSchema, {
      "GET /videos/limits": () => LIMITS,
      "POST /videos": () => video({ upload: UPLOAD }),
      "POST /videos/:id/start": () => running(0, null),
      "GET /videos/:id": () => running(10, 300),
      "DELETE /videos/:id": () => video({ state: "cancelled" }),
    });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    chooseClip(clip());
    await screen.findByTestId("clip-preview");
    await user.click(action());
    await waitFor(() => expect(server.xhrs).toHaveLength(1));
    act(() => server.xhrs[0]!.respond(204));
    await waitFor(() => expect(screen.getByTestId("video-status")).toHaveTextContent("Frame 0 of 288 · estimating the time left"));
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS));
    await waitFor(() => expect(screen.getByTestId("video-status")).toHaveTextContent("Frame 10 of 288 · about 5 min left"));

    await user.click(within(screen.getByTestId("video-progress")).getByRole("button", { name: /^Cancel/ }));
    expect(server.routes().at(-1)).toBe("DELETE /videos/:id");
    const seen = server.routes().length;
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS * 3));
    expect(server.routes()).toHaveLength(seen);
    expect(screen.queryByTestId("video-progress")).not.toBeInTheDocument();
    expect(screen.getByTestId("clip-preview")).toBeInTheDocument();
  });

  it("cancelling during the upload aborts it and deletes the job", async () => {
    const server = fakeVideoServer(assertMatchesSchema, {
      "GET /videos/limits": () => LIMITS,
      "POST /videos": () => video({ upload: UPLOAD }),
      "DELETE /videos/:id": () => video({ state: "cancelled" }),
    });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    chooseClip(clip());
    await screen.findByTestId("clip-preview");
    await user.click(action());
    await waitFor(() => expect(server.xhrs).toHaveLength(1));
    await user.keyboard("{Escape}");
    expect(server.xhrs[0]!.aborted).toBe(true);
    expect(server.routes()).toEqual(["GET /videos/limits", "POST /videos", "DELETE /videos/:id"]);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument(); // a cancel is not an error
  });

  it("takes a clip dropped anywhere on the page, which the photo mode then does not see", async () => {
    const server = fakeVideoServer(assertMatchesSchema, { "GET /videos/limits": () => LIMITS });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    const dataTransfer = { types: ["Files"], files: [clip("dropped.webm", "video/webm")] };
    fireEvent.dragEnter(document.body, { dataTransfer });
    expect(screen.getByText("Drop to use this clip")).toBeInTheDocument();
    fireEvent.drop(document.body, { dataTransfer });
    expect(await screen.findByTestId("clip-facts")).toHaveTextContent("dropped.webm12 s, 640 × 360, 1 kB");
    expect(screen.queryByText("Drop to use this clip")).not.toBeInTheDocument();
    await user.click(screen.getByRole("radio", { name: "Photo" }));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument(); // the photo mode did not try to read it
  });

  it("stops polling while another mode is shown, and picks up again on return", async () => {
    const server = fakeVideoServer(assertMatchesSchema, {
      "GET /videos/limits": () => LIMITS,
      "POST /videos": () => video({ upload: UPLOAD }),
      "POST /videos/:id/start": () => video({ state: "queued" }),
      "GET /videos/:id": () => running(10, 30),
    });
    const user = renderVideoMode(server.api);
    await openVideoMode(user);
    chooseClip(clip());
    await screen.findByTestId("clip-preview");
    await user.click(action());
    await waitFor(() => expect(server.xhrs).toHaveLength(1));
    act(() => server.xhrs[0]!.respond(204));
    await waitFor(() => expect(server.routes()).toContain("POST /videos/:id/start"));
    await user.click(screen.getByRole("radio", { name: "Photo" }));
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS * 3));
    expect(server.routes().filter((r) => r === "GET /videos/:id")).toHaveLength(0);
    await user.click(screen.getByRole("radio", { name: "Video" }));
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS));
    await waitFor(() => expect(screen.getByTestId("video-status")).toHaveTextContent("Frame 10 of 288 · less than a minute left"));
  });
});

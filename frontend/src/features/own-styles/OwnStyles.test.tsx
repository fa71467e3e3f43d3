import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { OwnJob } from "../../api/jobs";
import type { TrainingJob } from "../../api/types";
import type { OwnStyles } from "./useOwnStyles";
import { formatLoss, nameFromFile, OwnStylesStep, timeLeft } from "./OwnStyles";

const running: TrainingJob = {
  id: "j1",
  name: "Blue period",
  state: "running",
  cancelRequested: false,
  thumbnail: null,
  style: null,
  model: null,
  error: null,
  progress: { step: 40, totalSteps: 2000, losses: { content: 1234.5, style: 0.004321, tv: 12, total: 2500 }, etaS: 5430, elapsedS: 80 },
  preview: { step: 40, image: "data:image/jpeg;base64,AA==" },
};
const done: TrainingJob = { ...running, id: "j2", name: "Sunflowers", state: "done", style: "user-j2", progress: undefined, preview: undefined };

function own(fields: Partial<OwnStyles> = {}): OwnStyles {
  return {
    training: { state: "on" },
    jobs: [],
    styles: [],
    losses: {},
    starting: false,
    pollError: null,
    start: vi.fn(async () => null),
    cancel: vi.fn(async () => undefined),
    finish: vi.fn(async () => undefined),
    remove: vi.fn(async () => true),
    ...fields,
  };
}

function renderStep(state: OwnStyles, selectedId: string | null = null) {
  const onUse = vi.fn();
  const onSubmit = vi.fn((event: { preventDefault(): void }) => event.preventDefault());
  render(
    <form onSubmit={onSubmit}>
      <OwnStylesStep own={state} selectedId={selectedId} onUse={onUse} />
    </form>,
  );
  return { user: userEvent.setup(), onUse, onSubmit };
}

describe("Your own styles", () => {
  it("takes a painting and a name; Enter starts training, not the panel's Stylize", async () => {
    const state = own();
    const { user, onSubmit } = renderStep(state);
    await user.click(screen.getByRole("button", { name: "Add your own style" }));
    expect(screen.getByRole("button", { name: "Choose a painting" })).toHaveFocus();
    expect(screen.getByRole("button", { name: "Start training" })).toBeDisabled();
    expect(screen.getByText("Choose a painting.")).toBeInTheDocument();

    const painting = new File(["png bytes"], "blue_period-study.png", { type: "image/png" });
    // As the browser does after the file dialog: a change on the hidden input, which never takes the focus.
    fireEvent.change(screen.getByLabelText("Painting file"), { target: { files: [painting] } });
    const name = screen.getByLabelText("Name");
    expect(name).toHaveValue("Blue period study");
    expect(name).toHaveFocus();
    expect(screen.getByText(/blue_period-study\.png, 9 B/)).toBeInTheDocument();
    await user.clear(name);
    expect(screen.getByText("Give your style a name.")).toBeInTheDocument();
    await user.type(name, "  My blue  {Enter}");
    expect(state.start).toHaveBeenCalledWith({ name: "My blue", painting });
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("refuses a painting too large to send, before uploading it", async () => {
    const state = own();
    const { user } = renderStep(state);
    await user.click(screen.getByRole("button", { name: "Add your own style" }));
    const huge = new File([new Uint8Array(5_000_000)], "huge.tif", { type: "image/tiff" });
    await user.upload(screen.getByLabelText("Painting file"), huge);
    expect(screen.getByRole("alert")).toHaveTextContent(/“huge.tif” is 4.8 MB; a painting can be up to 4.2 MB/);
    expect(screen.getByRole("button", { name: "Start training" })).toBeDisabled();
  });

  it("shows a running job's step, losses, time left and preview, and cancels it", async () => {
    const state = own({ jobs: [running], losses: { j1: [{ step: 20, total: 4000 }, { step: 40, total: 2500 }] } });
    const { user } = renderStep(state);
    const card = screen.getByRole("article", { name: "Blue period" });
    expect(within(card).getByTestId("training-status")).toHaveTextContent("Training · about 1 h 31 min left");
    expect(within(card).getByText("Step 40 of 2,000")).toBeInTheDocument();
    expect(within(card).getByRole("progressbar", { name: "Step 40 of 2,000" })).toHaveAttribute("value", "40");
    expect(within(card).getByTestId("training-losses")).toHaveTextContent("Style loss4.32e-3Content loss1,230Smoothness loss12Total loss2,500");
    expect(within(card).getByRole("img", { name: "Total loss from 4,000 to 2,500" })).toBeInTheDocument();
    expect(within(card).getByAltText(/Preview at step 40/)).toHaveAttribute("src", "data:image/jpeg;base64,AA==");
    // Cancelling a running job asks first: what it learned is lost, and Use it now would keep it.
    await user.click(within(card).getByRole("button", { name: "Cancel training" }));
    expect(state.cancel).not.toHaveBeenCalled();
    const confirm = within(card).getByRole("group", { name: /Cancel “Blue period”\?/ });
    expect(confirm).toHaveTextContent("What it has learned so far is lost. To keep it as a style instead, choose Use it now.");
    await user.click(within(confirm).getByRole("button", { name: "Keep training" }));
    expect(within(card).queryByRole("group")).toBeNull();
    await user.click(within(card).getByRole("button", { name: "Cancel training" }));
    await user.click(within(card).getByRole("button", { name: "Discard and cancel" }));
    expect(state.cancel).toHaveBeenCalledWith(running);
    expect(state.finish).not.toHaveBeenCalled();
  });

  it("offers Use it now from a running job's first checkpoint, then says it is finishing", async () => {
    const early: OwnJob = { ...running, checkpointStep: null };
    const state = own({ jobs: [early] });
    const { user } = renderStep(state);
    const use = screen.getByRole("button", { name: "Use it now" });
    expect(use).toBeDisabled();
    expect(use).toHaveAccessibleDescription("Use it now is possible from its first checkpoint, about a minute in.");
    cleanup();

    const ready: OwnJob = { ...running, checkpointStep: 1500 };
    const later = own({ jobs: [ready] });
    renderStep(later);
    const button = screen.getByRole("button", { name: "Use it now" });
    expect(button).toBeEnabled();
    expect(button).toHaveAccessibleDescription("Stops training and keeps what it has learned (step 1,500 or later) as your style.");
    await user.click(button);
    expect(later.finish).toHaveBeenCalledWith(ready);
    expect(later.cancel).not.toHaveBeenCalled();
    cleanup();

    renderStep(own({ jobs: [{ ...ready, finishRequested: true }] }));
    const card = screen.getByRole("article", { name: "Blue period" });
    expect(within(card).getByTestId("training-status")).toHaveTextContent(/^Finishing…$/); // no time left: it is ending
    expect(within(card).getByRole("button", { name: "Finishing…" })).toBeDisabled();
    expect(within(card).getByTestId("finish-hint")).toHaveTextContent("Saving what it has learned as your style");
  });

  it("offers Use it now only for a running job, where the API has the route", () => {
    renderStep(own({ jobs: [{ ...running, id: "q", name: "Queued", state: "queued" }, { ...running, cancelRequested: true }] }));
    expect(screen.queryByRole("button", { name: "Use it now" })).toBeNull(); // waiting, or being cancelled
    cleanup();
    renderStep(own({ jobs: [running], finish: null }));
    expect(screen.queryByRole("button", { name: "Use it now" })).toBeNull();
    expect(screen.getByRole("button", { name: "Cancel training" })).toBeEnabled();
  });

  it("says at which step a style finished early", () => {
    renderStep(own({ jobs: [{ ...done, finishedEarlyAtStep: 1200 } as OwnJob] }));
    expect(screen.getByRole("list", { name: "Your styles" })).toHaveTextContent("Ready · finished early, at step 1,200");
  });

  it("says a queued job waits, and a cancelled one is stopping", () => {
    renderStep(own({ jobs: [{ ...running, id: "q", name: "Queued", state: "queued", preview: null }, { ...running, cancelRequested: true }] }));
    const [queued, stopping] = screen.getAllByTestId("training-card");
    expect(within(queued!).getByTestId("training-status")).toHaveTextContent(/^Waiting for the trainer$/);
    expect(within(queued!).getByText("A preview appears after the first few steps.")).toBeInTheDocument();
    expect(within(stopping!).getByTestId("training-status")).toHaveTextContent(/^Stopping…$/);
    expect(within(stopping!).getByRole("button", { name: "Stopping…" })).toBeDisabled();
  });

  it("lists finished styles to use, and deletes one after a confirmation", async () => {
    const failed: TrainingJob = { ...done, id: "j3", name: "Broken", state: "failed", style: null, error: "the painting has no colour" };
    const state = own({ jobs: [done, failed] });
    const { user, onUse } = renderStep(state);
    const list = screen.getByRole("list", { name: "Your styles" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    await user.click(screen.getByText("1 stopped job (failed or cancelled)"));
    const stopped = screen.getByRole("list", { name: "Stopped jobs" });
    expect(within(stopped).getByText("Training failed: the painting has no colour")).toBeInTheDocument();
    await user.click(within(list).getByRole("button", { name: "Use Sunflowers" }));
    expect(onUse).toHaveBeenCalledWith("user-j2");

    await user.click(within(list).getByRole("button", { name: "Delete Sunflowers" }));
    expect(state.remove).not.toHaveBeenCalled();
    await user.click(within(list).getByRole("button", { name: "Keep" }));
    await user.click(within(list).getByRole("button", { name: "Delete Sunflowers" }));
    await user.click(within(list).getByRole("button", { name: "Delete “Sunflowers”" }));
    expect(state.remove).toHaveBeenCalledWith(done);
    expect(within(stopped).getByRole("button", { name: "Remove Broken" })).toBeInTheDocument();
  });

  it("marks the style in use", () => {
    renderStep(own({ jobs: [done] }), "user-j2");
    expect(screen.getByText("In use")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Use Sunflowers" })).not.toBeInTheDocument();
  });

  it("says why training is off, and stays out of the way on a stack without it", () => {
    const reason = { title: "Please sign in", message: "Training your own style needs an account on this site.", code: "unauthorized" };
    const { unmount } = render(<OwnStylesStep own={own({ training: { state: "off", reason } })} selectedId={null} onUse={vi.fn()} />);
    expect(screen.getByTestId("training-off")).toHaveTextContent("Please sign in. Training your own style needs an account on this site.");
    unmount();
    const routesOff = { title: "That sample photo is gone", message: "", code: "not_found" };
    const { container } = render(<OwnStylesStep own={own({ training: { state: "off", reason: routesOff } })} selectedId={null} onUse={vi.fn()} />);
    expect(container).toBeEmptyDOMElement();
  });

  it("offers sign-in where the stack signs users in, and sign-out once in", () => {
    const auth = { user: vi.fn(() => null), signIn: vi.fn(async () => {}), complete: vi.fn(), authorization: vi.fn(), signOut: vi.fn() };
    const reason = { title: "Please sign in", message: "Training your own style needs an account on this site.", code: "unauthorized" };
    const { unmount } = render(<OwnStylesStep own={own({ training: { state: "off", reason } })} selectedId={null} onUse={vi.fn()} auth={auth} />);
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(auth.signIn).toHaveBeenCalledOnce();
    unmount();
    auth.user.mockReturnValue({ email: "ada@example.com" } as never);
    render(<OwnStylesStep own={own()} selectedId={null} onUse={vi.fn()} auth={auth} />);
    expect(screen.getByTestId("signed-in")).toHaveTextContent("Signed in as ada@example.com · Sign out");
    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(auth.signOut).toHaveBeenCalledOnce();
  });
});

describe("the progress figures", () => {
  it.each([
    [null, "estimating the time left"],
    [42, "less than a minute left"],
    [600, "about 10 min left"],
    [3600, "about 1 h left"],
    [9400, "about 2 h 37 min left"],
  ])("time left for %s s", (eta, text) => expect(timeLeft(eta)).toBe(text));

  it("formats losses to three figures", () => {
    expect([formatLoss(10454.98), formatLoss(0.1402), formatLoss(3.2e7), formatLoss(0.00042), formatLoss(Number.NaN)]).toEqual([
      "10,500", "0.14", "3.20e+7", "4.20e-4", "—",
    ]);
  });

  it("names a style after its file", () => {
    expect(nameFromFile("the_scream-1893.final.JPG")).toBe("The scream 1893 final");
  });
});

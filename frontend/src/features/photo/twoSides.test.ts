import { stageJob, wantedBoth } from "./twoSides";
import type { PhotoJob, PhotoResult } from "./useStylizeJob";

const result = (key: string, styleName: string) => ({ key, styleName } as PhotoResult);

describe("two styles, one on each side of the mask, on the stage", () => {
  it("is named for both and current only when both answer the current settings", () => {
    const job: PhotoJob = { state: "done", result: result("wave", "The Great Wave") };
    const other: PhotoJob = { state: "done", result: result("udnie", "Udnie") };
    const both = stageJob(job, other);
    expect(both).toMatchObject({ state: "done", result: { styleName: "The Great Wave / Udnie", key: "wave|udnie" } });
    expect(wantedBoth("wave", "udnie")).toBe("wave|udnie");
    expect(wantedBoth("wave", "starry")).not.toBe("wave|udnie");
  });

  it("shows the other side's run over both previous results, never under the new name", () => {
    const job: PhotoJob = { state: "done", result: result("wave", "The Great Wave") };
    const busy: PhotoJob = { state: "busy", key: "starry", styleName: "The Starry Night", startedAt: 0, previous: result("udnie", "Udnie") };
    const shown = stageJob(job, busy);
    expect(shown).toMatchObject({ state: "busy", styleName: "The Starry Night", previous: { styleName: "The Great Wave / Udnie" } });
  });

  it("without a second style is the style's own job, keyed for no other side", () => {
    const job: PhotoJob = { state: "done", result: result("wave", "The Great Wave") };
    expect(stageJob(job, null)).toMatchObject({ result: { styleName: "The Great Wave", key: "wave|" } });
    expect(wantedBoth("wave", null)).toBe("wave|");
  });
});

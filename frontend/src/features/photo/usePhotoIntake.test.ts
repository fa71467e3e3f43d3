import { act, renderHook } from "@testing-library/react";
import { FakeBackend, fakePhoto } from "../../test/fakeImages";
import { deferred, stubApi } from "../../test/stubApi";
import { baseName, usePhotoIntake } from "./usePhotoIntake";

function renderIntake(api = stubApi()) {
  const onNotice = vi.fn();
  const onAccept = vi.fn();
  const hook = renderHook(() => usePhotoIntake(api, { maxSide: 512, imageBackend: new FakeBackend(), onNotice, onAccept }));
  return { ...hook, onNotice, onAccept };
}

describe("usePhotoIntake", () => {
  it("prepares an upload for sending and names it for the download", async () => {
    const { result, onNotice, onAccept } = renderIntake();
    await act(() => result.current.takeFile(fakePhoto(2000, 1000, "Beach day.JPG")));
    expect(result.current.photo).toMatchObject({ name: "Beach-day", label: "Beach day.JPG", width: 512, height: 256 });
    expect(result.current.photo?.source.kind).toBe("upload");
    expect(result.current.preparing).toBe(false);
    expect(onNotice).toHaveBeenCalledWith(null);
    expect(onAccept).toHaveBeenCalledTimes(1);
  });

  it("keeps the latest of two photos read at once", async () => {
    const sample = deferred<Blob>();
    const api = stubApi({ fetchGalleryImage: vi.fn(() => sample.promise) });
    const { result, onAccept } = renderIntake(api);
    let slow!: Promise<void>;
    act(() => void (slow = result.current.takeGalleryImage({ key: "gallery/coffee.jpg", name: "coffee.jpg", thumbnail: null })));
    expect(result.current.preparing).toBe(true);
    await act(() => result.current.takeFile(fakePhoto(300, 200, "later.png")));
    await act(async () => {
      sample.resolve(fakePhoto(640, 480));
      await slow;
    });
    expect(result.current.photo?.label).toBe("later.png");
    expect(onAccept).toHaveBeenCalledTimes(1);
  });

  it("leaves the photo alone and says why when a file is unusable", async () => {
    const { result, onNotice, onAccept } = renderIntake();
    await act(() => result.current.takeFile(fakePhoto(300, 200)));
    const before = result.current.photo;
    await act(() => result.current.takeFile(new File(["nope"], "notes.txt", { type: "text/plain" })));
    expect(result.current.photo).toBe(before);
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ title: "That file can’t be used" }));
    expect(onAccept).toHaveBeenCalledTimes(1);
  });

  it("makes file names safe for a download", () => {
    expect(baseName("Beach day.JPG")).toBe("Beach-day");
    expect(baseName("../..//.jpg")).toBe("photo");
    expect(baseName(`${"a".repeat(80)}.png`)).toHaveLength(60);
  });
});

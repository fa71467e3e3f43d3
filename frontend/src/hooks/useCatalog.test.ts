import { act, renderHook, waitFor } from "@testing-library/react";
import { ApiError } from "../api/errors";
import type { Style } from "../api/types";
import { stubApi } from "../test/stubApi";
import { useCatalog } from "./useCatalog";

const STYLES: Style[] = [
  { id: "great_wave", name: "The Great Wave off Kanagawa", artist: "Katsushika Hokusai", year: 1831, thumbnail: null },
  { id: "udnie", name: "Udnie", artist: "Francis Picabia", year: 1913, thumbnail: null },
];

describe("useCatalog", () => {
  it("preselects the first style until one is picked, and keeps the pick", async () => {
    const api = stubApi({ listStyles: vi.fn(async () => STYLES), listGallery: vi.fn(async () => []) });
    const { result } = renderHook(() => useCatalog(api));
    expect(result.current.style).toBeNull();
    await waitFor(() => expect(result.current.style?.id).toBe("great_wave"));
    expect(result.current.gallery.items).toEqual([]);
    act(() => result.current.selectStyle("udnie"));
    expect(result.current.style?.name).toBe("Udnie");
  });

  it("says why a list failed, and loads it again on retry", async () => {
    const listStyles = vi.fn().mockRejectedValueOnce(new ApiError("network_error", "down")).mockResolvedValueOnce(STYLES);
    const api = stubApi({ listStyles, listGallery: vi.fn(async () => []) });
    const { result } = renderHook(() => useCatalog(api));
    await waitFor(() => expect(result.current.styles.error).toBe("Check your connection and try again."));
    expect(result.current.styles.items).toBeNull();
    act(() => void result.current.styles.reload());
    expect(result.current.styles.error).toBeNull();
    await waitFor(() => expect(result.current.styles.items).toHaveLength(2));
    expect(result.current.styleId).toBe("great_wave");
  });

  it("aborts the loads when the app goes away", () => {
    const signals: AbortSignal[] = [];
    const pending = (signal?: AbortSignal) => {
      signals.push(signal!);
      return new Promise<never>(() => undefined);
    };
    const { unmount } = renderHook(() => useCatalog(stubApi({ listStyles: vi.fn(pending), listGallery: vi.fn(pending) })));
    expect(signals.map((signal) => signal.aborted)).toEqual([false, false]);
    unmount();
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
  });
});

// Full-strength results kept by what they answer (useStylizeJob's keyOf), so that going back to a style, a brush
// or the other side of a mask shows its result at once with no new request. Only blobs are kept: each result
// taken out gets its own object URL, released by whoever shows it, so nothing here needs releasing.
import type { PhotoResult } from "./useStylizeJob";

export type CachedResult = Omit<PhotoResult, "url">;

/** How many results are kept (a few megabytes each at most): the last ones painted for this photo. */
const KEPT = 8;

export class ResultCache {
  private results = new Map<string, CachedResult>();

  has(key: string): boolean {
    return this.results.has(key);
  }

  /** The result for `key` with a new object URL, or null; it becomes the most recently used. */
  take(key: string): PhotoResult | null {
    const found = this.results.get(key);
    if (!found) return null;
    this.results.delete(key);
    this.results.set(key, found);
    return { ...found, url: URL.createObjectURL(found.stylized) };
  }

  put(result: PhotoResult): void {
    const { url: _url, ...kept } = result;
    this.results.delete(result.key);
    this.results.set(result.key, kept);
    while (this.results.size > KEPT) this.results.delete(this.results.keys().next().value!);
  }

  clear(): void {
    this.results.clear();
  }
}

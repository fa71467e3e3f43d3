import { useEffect, useRef, useState } from "react";
import type { MaskPlane, Mixer } from "../../image/mix";
import { downloadName, type PhotoResult } from "./useStylizeJob";

/** What the Download link offers: the result at the chosen strength and mask, named for it; url is null while it
 * is made. */
export interface MixedDownload {
  url: string | null;
  fileName: string;
  /** Why there is none (the browser could not mix the images). */
  error?: string;
  /** With a mask, what the screen shows: the latest mix made (the last one until the next is made), or null before
   * the first; without a mask the screen mixes the strength with CSS opacity. */
  screenUrl: string | null;
  /** Whether that mix is of the results shown now (both sides): if not, it is the previous one, named so. */
  screenCurrent: boolean;
}

export interface MixWith {
  /** Where the style goes; none: everywhere. */
  mask?: MaskPlane | null;
  /** The second style's full-strength result, on the mask's other side instead of the photo (with a mask only). */
  otherSide?: PhotoResult | null;
}

/** How long the strength slider must rest before the download at that strength is made. */
export const MIX_DELAY_MS = 120;

interface Made {
  result: PhotoResult;
  strength: number;
  mask: MaskPlane | null;
  otherSide: PhotoResult | null;
  url: string | null;
  error?: string;
}

// The download at the chosen strength and mask. Without a mask the screen shows the strength at once (CSS opacity
// over the photo: the same sum) and the file is made from the two images' pixels once the slider rests; with one,
// the screen shows that mix too. At 100% with no mask it is the result itself.
export function useMixedDownload(result: PhotoResult | null, strength: number, mixer: Mixer, photoName: string, { mask = null, otherSide = null }: MixWith = {}): MixedDownload {
  const other = mask ? otherSide : null;
  const [made, setMade] = useState<Made | null>(null);
  const madeUrl = useRef<string | null>(null);
  const mixedMask = useRef<MaskPlane | null>(null);
  const name = result && downloadName({
    photoName,
    styleName: other ? `${result.styleName} and ${other.styleName}` : result.styleName,
    strength,
    keepColours: result.keepColours,
    fullSize: result.fullSize,
    type: result.stylized.type,
    brush: result.brush,
    masked: !!mask,
  });

  // The last mix made stays (on screen) until the next replaces it; it is released then, or when leaving.
  useEffect(() => () => void (madeUrl.current && URL.revokeObjectURL(madeUrl.current)), []);

  useEffect(() => {
    if (!result || (strength >= 1 && !mask)) return;
    let alive = true;
    // A finished stroke mixes at once; a strength waits for the slider to rest.
    const delay = mixedMask.current !== mask ? 0 : MIX_DELAY_MS;
    mixedMask.current = mask;
    const timer = window.setTimeout(() => {
      const request = { photo: result.photoBlob, stylized: result.stylized, width: result.width, height: result.height, strength, mask, otherSide: other?.stylized ?? null };
      mixer(request).then(
        (blob) => {
          if (!alive) return;
          if (madeUrl.current) URL.revokeObjectURL(madeUrl.current);
          madeUrl.current = URL.createObjectURL(blob);
          setMade({ result, strength, mask, otherSide: other, url: madeUrl.current });
        },
        (error: unknown) => alive && setMade({ result, strength, mask, otherSide: other, url: null, error: error instanceof Error ? error.message : String(error) }),
      );
    }, delay);
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [result, strength, mixer, mask, other]);

  const screen = { screenUrl: mask ? (made?.url ?? null) : null, screenCurrent: made?.result === result && made.otherSide === other };
  if (!result || !name) return { url: null, fileName: "", ...screen };
  if (strength >= 1 && !mask) return { url: result.url, fileName: name, ...screen };
  if (made && made.result === result && made.strength === strength && made.mask === mask && made.otherSide === other) {
    return { url: made.url, fileName: name, error: made.error, ...screen };
  }
  return { url: null, fileName: name, ...screen };
}

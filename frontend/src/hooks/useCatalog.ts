import { useCallback, useEffect, useMemo, useState } from "react";
import type { Api } from "../api/client";
import type { GalleryImage, Style } from "../api/types";
import { useListing, type Listing } from "./useListing";

const NONE: Style[] = [];

export interface Catalog {
  styles: Listing<Style>;
  gallery: Listing<GalleryImage>;
  /** The chosen style's id: the first style until the person picks one. */
  styleId: string | null;
  /** The chosen style, once the list has it. */
  style: Style | null;
  selectStyle(id: string): void;
}

// What the server offers: its styles (one of them selected) and its gallery of sample photos. The person's
// own finished styles (`own`, from their training jobs) follow the server's in the list.
export function useCatalog(api: Api, own: Style[] = NONE): Catalog {
  const [styleId, setStyleId] = useState<string | null>(null);

  const listStyles = useCallback(
    (signal: AbortSignal) =>
      api.listStyles(signal).then((list) => {
        setStyleId((current) => current ?? list[0]?.id ?? null);
        return list;
      }),
    [api],
  );
  const listGallery = useCallback((signal: AbortSignal) => api.listGallery(signal), [api]);

  const served = useListing(listStyles);
  const gallery = useListing(listGallery);
  const items = useMemo(() => (served.items ? [...served.items, ...own] : null), [served.items, own]);
  const styles = { ...served, items };
  // A deleted style gives way to the first one: the picker is reset to it (and stays there if the list changes again).
  const style = items?.find((candidate) => candidate.id === styleId) ?? items?.[0] ?? null;
  useEffect(() => {
    if (items && styleId !== null && !items.some((candidate) => candidate.id === styleId)) setStyleId(items[0]?.id ?? null);
  }, [items, styleId]);

  return { styles, gallery, styleId: style?.id ?? styleId, style, selectStyle: setStyleId };
}

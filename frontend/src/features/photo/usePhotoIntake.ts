import { useCallback, useEffect, useRef, useState } from "react";
import type { Api } from "../../api/client";
import { isAbort } from "../../api/errors";
import { describeError, type Notice } from "../../api/messages";
import type { GalleryImage } from "../../api/types";
import { ImageReadError, prepareImage, type ImageBackend } from "../../image/pipeline";
import type { Photo } from "../../types";

interface Options {
  /** The longer side photos are scaled down to before upload. */
  maxSide: number;
  /** Tests pass a fake; the browser's canvas is used otherwise. */
  imageBackend?: ImageBackend;
  /** Where messages go: null when a photo starts being read, the reason when it cannot be used. */
  onNotice(notice: Notice | null): void;
  /** Called once a new photo is ready, just before it replaces the current one. */
  onAccept(): void;
}

export interface PhotoIntake {
  photo: Photo | null;
  /** A photo is being read, decoded and prepared. */
  preparing: boolean;
  takeFile(file: File): Promise<void>;
  takeGalleryImage(image: GalleryImage): Promise<void>;
}

// The photo to stylize: a file (picked, dropped or pasted) or a gallery sample, decoded and prepared
// for upload in the browser. When several are read at once the latest wins; one that turns out
// unusable leaves the current photo alone.
export function usePhotoIntake(api: Api, { maxSide, imageBackend, onNotice, onAccept }: Options): PhotoIntake {
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [preparing, setPreparing] = useState(false);
  const ticket = useRef(0);

  // Object URLs hold the image bytes until revoked: release each one when it is replaced.
  useEffect(() => () => void (photo && URL.revokeObjectURL(photo.previewUrl)), [photo]);

  const take = useCallback(
    async (read: () => Promise<Blob>, describe: (blob: Blob) => Pick<Photo, "name" | "label" | "source">) => {
      const mine = ++ticket.current;
      setPreparing(true);
      onNotice(null);
      try {
        const blob = await read();
        const prepared = await prepareImage(blob, { maxSide, backend: imageBackend });
        if (mine !== ticket.current) return;
        onAccept(); // only now: a file that turns out unusable leaves the running request and result alone
        const { name, label, source } = describe(blob);
        setPhoto({
          name,
          label,
          source: { ...source, prepared },
          original: blob,
          previewUrl: URL.createObjectURL(prepared.blob),
          width: prepared.width,
          height: prepared.height,
        });
      } catch (error) {
        if (mine !== ticket.current || isAbort(error)) return;
        onNotice(
          error instanceof ImageReadError
            ? { title: "That file can’t be used", message: error.message }
            : describeError(error),
        );
      } finally {
        if (mine === ticket.current) setPreparing(false);
      }
    },
    [maxSide, imageBackend, onNotice, onAccept],
  );

  const takeFile = useCallback(
    (file: File) =>
      take(
        async () => file,
        () => ({
          name: baseName(file.name),
          label: file.name || "Pasted image",
          source: { kind: "upload" } as Photo["source"],
        }),
      ),
    [take],
  );

  const takeGalleryImage = useCallback(
    (image: GalleryImage) =>
      take(
        () => api.fetchGalleryImage(image.key),
        () => ({
          name: baseName(image.name),
          label: image.name,
          source: { kind: "gallery", key: image.key } as Photo["source"],
        }),
      ),
    [api, take],
  );

  return { photo, preparing, takeFile, takeGalleryImage };
}

/** A file name's stem, made safe for the download's name. */
export function baseName(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, "").replace(/[^\p{L}\p{N}_-]+/gu, "-").replace(/^-+|-+$/g, "");
  return stem.slice(0, 60) || "photo";
}

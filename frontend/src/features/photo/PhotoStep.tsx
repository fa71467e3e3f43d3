import type { GalleryImage } from "../../api/types";
import { formatBytes } from "../../image/pipeline";
import type { Photo } from "../../types";
import { Thumb } from "../../components/Thumb";
import { UploadIcon } from "../../components/icons";

interface Props {
  photo: Photo | null;
  preparing: boolean;
  /** Where the result on screen was made, once there is one for the current settings. */
  ranOn: "device" | "server" | null;
  gallery: GalleryImage[] | null;
  galleryError: string | null;
  onFile(file: File): void;
  onGalleryPick(image: GalleryImage): void;
  onRetryGallery(): void;
  inputRef: React.RefObject<HTMLInputElement | null>;
}

// Not "image/*", and no HEIC: iPhones then hand over a JPEG instead of HEIC, which most browsers
// cannot decode.
export const ACCEPTED_TYPES = "image/jpeg,image/png,image/webp,image/gif,image/bmp,image/avif";

export function PhotoStep({ photo, preparing, ranOn, gallery, galleryError, onFile, onGalleryPick, onRetryGallery, inputRef }: Props) {
  const selectedKey = photo?.source.kind === "gallery" ? photo.source.key : null;
  return (
    <section className="step" aria-labelledby="photo-step-title">
      <h2 className="step__title" id="photo-step-title">
        <span className="step__number" aria-hidden="true">1</span> Choose a photo
      </h2>
      <div className="upload-row">
        <input
          ref={inputRef}
          id="photo-input"
          type="file"
          accept={ACCEPTED_TYPES}
          className="visually-hidden"
          tabIndex={-1}
          aria-label="Photo file"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) onFile(file);
            event.target.value = ""; // picking the same file again still fires a change
          }}
        />
        <button
          type="button"
          className="button button--secondary upload-button"
          aria-busy={preparing}
          onClick={() => inputRef.current?.click()}
        >
          <UploadIcon /> {photo ? "Upload another photo" : "Upload a photo"}
        </button>
        <span className="upload-row__hint for-pointer">or drop / paste one anywhere</span>
      </div>
      {photo && <PhotoFacts photo={photo} ranOn={ranOn} />}
      <GalleryRow
        gallery={gallery}
        error={galleryError}
        selectedKey={selectedKey}
        onPick={onGalleryPick}
        onRetry={onRetryGallery}
      />
    </section>
  );
}

// What goes over the wire: the re-encoded upload (and what it was made from), or nothing for a
// sample, which the server reads from the gallery itself; once the result was made on this device, that
// nothing was sent.
function PhotoFacts({ photo, ranOn }: { photo: Photo; ranOn: "device" | "server" | null }) {
  const { prepared } = photo.source;
  if (photo.source.kind === "gallery") {
    return (
      <p className="sent-size" data-testid="sent-size" data-ran-on={ranOn ?? ""}>
        <span className="sent-size__name">{photo.label}</span>
        Sample photo, {prepared.width} × {prepared.height}.{" "}
        <span className="muted">
          {ranOn === "device" ? "Stylized on this device." : ranOn === "server" ? "The server read it from the gallery and stylized it." : "The server reads it from the gallery."}
        </span>
      </p>
    );
  }
  const resized = prepared.width !== prepared.originalWidth || prepared.height !== prepared.originalHeight;
  return (
    <p className="sent-size" data-testid="sent-size" data-ran-on={ranOn ?? ""}>
      <span className="sent-size__name">{photo.label}</span>
      {ranOn === "device" ? "Stylized on this device, nothing sent: " : ranOn === "server" ? "Sent to the server: " : "Sends "}
      {prepared.width} × {prepared.height} JPEG, {formatBytes(prepared.blob.size)}{" "}
      <span className="muted">
        {resized
          ? `(resized from ${prepared.originalWidth} × ${prepared.originalHeight}, ${formatBytes(prepared.originalBytes)})`
          : `(re-encoded from ${formatBytes(prepared.originalBytes)})`}
      </span>
    </p>
  );
}

function GalleryRow({
  gallery,
  error,
  selectedKey,
  onPick,
  onRetry,
}: {
  gallery: GalleryImage[] | null;
  error: string | null;
  selectedKey: string | null;
  onPick(image: GalleryImage): void;
  onRetry(): void;
}) {
  if (error) {
    return (
      <div className="inline-error" role="alert">
        <p>The sample photos could not be loaded. {error}</p>
        <button type="button" className="button button--quiet" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  if (gallery !== null && gallery.length === 0) return null;
  return (
    <div className="gallery">
      <p className="gallery__label" id="gallery-label">
        Or try a sample
      </p>
      <ul className="gallery__list" aria-labelledby="gallery-label" aria-busy={gallery === null}>
        {gallery === null
          ? Array.from({ length: 5 }, (_, i) => (
              <li key={i} aria-hidden="true">
                <span className="thumb skeleton gallery__thumb" />
              </li>
            ))
          : gallery.map((image) => (
              <li key={image.key}>
                <button
                  type="button"
                  className="gallery__item"
                  aria-pressed={selectedKey === image.key}
                  aria-label={`Sample photo: ${image.name}`}
                  title={image.name}
                  data-gallery-key={image.key}
                  onClick={() => onPick(image)}
                >
                  <Thumb src={image.thumbnail} label={image.name} />
                </button>
              </li>
            ))}
      </ul>
    </div>
  );
}

import { Segmented } from "../../components/Segmented";

/** The result's longer side: each frame is painted at this size, so smaller is quicker. */
export const RESULT_SIZES = [480, 720, 1280] as const;

export function ResultSizeField({ size, maxSize, onSize }: { size: number; maxSize: number | null; onSize(size: number): void }) {
  const options = RESULT_SIZES.filter((side) => maxSize === null || side <= maxSize).map((side) => ({ value: String(side), label: `${side} px` }));
  return (
    <Segmented
      name="video-size"
      legend="Video size"
      options={options}
      value={String(size)}
      onChange={(value) => onSize(Number(value))}
      hint="The result’s longer side (a smaller clip stays as it is): smaller is quicker."
    />
  );
}

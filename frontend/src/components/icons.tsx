// The app's line icons: 24-unit glyphs drawn at 18 px in the text colour, decorative (the button or
// control beside them carries the label).

function LineIcon({ d, round = true }: { d: string; round?: boolean }) {
  const caps = round ? ({ strokeLinecap: "round", strokeLinejoin: "round" } as const) : {};
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
      <path d={d} fill="none" stroke="currentColor" strokeWidth="2" {...caps} />
    </svg>
  );
}

export const UploadIcon = () => <LineIcon d="M12 16V4m0 0l-5 5m5-5l5 5M4 15v3a2 2 0 002 2h12a2 2 0 002-2v-3" />;
export const DownloadIcon = () => <LineIcon d="M12 4v12m0 0l-5-5m5 5l5-5M4 20h16" />;
export const PlusIcon = () => <LineIcon d="M12 5v14M5 12h14" />;
export const DividerIcon = () => <LineIcon d="M9 6l-6 6 6 6M15 6l6 6-6 6" round={false} />;

export function SparkIcon() {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
      <path d="M12 3l1.9 5.6L19.5 10l-5.6 1.9L12 17.5l-1.9-5.6L4.5 10l5.6-1.4z" fill="currentColor" />
      <path d="M19 16l.8 2.2L22 19l-2.2.8L19 22l-.8-2.2L16 19l2.2-.8z" fill="currentColor" />
    </svg>
  );
}
